using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using PopSteer.Core.Testing;
using PopSteer.Ingest;
using PopSteer.Retrainer;
using PopSteer.Streaming.Contracts;
using PopSteer.Streaming.Registry;
using PopSteer.Streaming.Tests.Deploy;
using PopSteer.Streaming.Tests.Infrastructure;
using PopSteer.Streaming.Tests.Retraining;
using PopSteer.Streaming.Tests.Scoring;

namespace PopSteer.Streaming.Tests.Observability;

/// <summary>
/// The alerts and the dashboard of deploy/monitoring name only series the services really export: the whole pipeline
/// (Ingest, Scorer, Retrainer, as their Program.cs wire them, metrics on) runs against a real redis-server and the mock
/// Kafka cluster with a tiny real model, is driven through what the alerts watch (events, a drift, a refit, a refused
/// alpha), and its /metrics is scraped and compared with every name in the rules and panels.
/// </summary>
[Collection(RetrainerHostsCollection.Name)]
public sealed partial class ExportedSeriesTests(RedisServerFixture redis, KafkaFixture kafka)
    : IClassFixture<RedisServerFixture>, IClassFixture<KafkaFixture>, IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);
    private const int Users = 40, PerUser = 10;
    private readonly ScratchDirectory _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task Every_series_in_the_alert_rules_and_the_dashboard_is_exported_by_the_running_pipeline()
    {
        var settings = RetrainerTestSettings.Create(kafka.BootstrapServers, redis.ConnectionString, _scratch.Sub("work"));
        var port = FreePort.Next();
        settings["Metrics:Port"] = port.ToString(CultureInfo.InvariantCulture);
        settings["Health:StatisticsInterval"] = "00:00:00.200";
        var baseDir = _scratch.Sub("base");
        TinyModelFactory.Create(baseDir, items: 30, seed: 7);
        await using (var services = new ServiceCollection().AddLogging().AddPopSteerStreamingForTests(settings).BuildServiceProvider())
            await services.GetRequiredService<ModelRegistry>().PublishAsync(baseDir);
        // Dated now, so no event-time bound of Ingest refuses them.
        var start = DateTimeOffset.UtcNow.AddMinutes(-1);
        var events = RetrainerTestSettings.DriftTowardsTail(baseDir, Users, PerUser, seed: 5)
            .Select((e, i) => e with { Timestamp = start.AddMilliseconds(i) }).ToList();

        // The topics exist before the services subscribe, as the topics Job makes sure in Kubernetes.
        await ScorerTestHost.SignalAsync(settings.BootstrapServers, settings.UsersChangedTopic,
            [new UserChanged { UserId = "nobody", LastEventId = "e0", LastItemId = "i0", EventTimestamp = DateTimeOffset.UtcNow, EnqueuedAt = DateTimeOffset.UtcNow }]);
        await using var pipeline = new ScorerTestHost(settings, _scratch.Sub("cache"), new Dictionary<string, string?>
        {
            ["Scoring:ShadowSampleEvery"] = "1",
            ["Retrainer:MinEventsBetweenRefits"] = (Users * PerUser / 2).ToString(CultureInfo.InvariantCulture),
            ["Retrainer:DriftThreshold"] = "0.05",
        }, (services, configuration) => services.AddIngest(configuration).AddRetrainer(configuration));
        var worker = pipeline.Services.GetRequiredService<RetrainerWorker>();
        var refits = 0;
        worker.RefitCompleted += _ => Interlocked.Increment(ref refits);
        await pipeline.StartAsync();
        await pipeline.WaitForModelAsync(Patience);
        await KafkaTestClient.ProduceEventsAsync(settings.BootstrapServers, settings.InteractionsTopic, events);
        await Eventually.Until(() => Volatile.Read(ref refits) > 0, Patience, () => "no refit was attempted");
        pipeline.Reconfigure(("Steering:Alpha", "-1")); // refused by the next batch: the last good alpha stays
        await ScorerTestHost.SignalAsync(settings.BootstrapServers, settings.UsersChangedTopic,
            [new UserChanged { UserId = "user-0", LastEventId = "again", LastItemId = events[0].ItemId, EventTimestamp = DateTimeOffset.UtcNow, EnqueuedAt = DateTimeOffset.UtcNow }]);
        await Eventually.Until(() => pipeline.Counter("popsteer.scorer.steering_refused") > 0, Patience, () => "the invalid alpha was not refused");
        await Eventually.Until(() => pipeline.Services.GetRequiredService<IngestMetrics>().EventsApplied == events.Count, Patience, () => "not every event was applied");
        await Eventually.Until(() => pipeline.Counter("popsteer.scorer.users_scored") > Users / 2, Patience, () => "the Scorer has not scored the users");

        using var http = new HttpClient();
        var wanted = MonitoredSeries.Alerts().Select(a => (Where: $"alert {a.Alert}", a.Expr))
            .Concat(MonitoredSeries.Panels().Select(p => (Where: $"panel '{p.Panel}'", p.Expr)))
            .SelectMany(x => MonitoredSeries.Names(x.Expr).Select(name => (x.Where, Name: name)))
            .ToList();
        Assert.True(wanted.Select(w => w.Name).Distinct().Count() >= 20, "the rules and panels name fewer series than expected");
        HashSet<string> exported = [];
        List<string> missing = [];
        await Eventually.Until(async () =>
        {
            exported = Exported(await http.GetStringAsync($"http://127.0.0.1:{port}/metrics"));
            missing = wanted.Where(w => !exported.Contains(w.Name)).Select(w => $"{w.Where}: {w.Name}").Distinct().ToList();
            return missing.Count == 0;
        }, TimeSpan.FromSeconds(30), () => "series named in deploy/monitoring but not exported:\n" + string.Join('\n', missing)
            + "\nexported:\n" + string.Join('\n', exported.Order()));

    }

    /// <summary>Every sample name in a Prometheus text exposition.</summary>
    private static HashSet<string> Exported(string text) =>
        text.Split('\n').Select(l => SampleName().Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);

    [GeneratedRegex(@"^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]")]
    private static partial Regex SampleName();
}
