using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using PopSteer.Core.Testing;
using PopSteer.Retrainer;
using PopSteer.Streaming.Registry;
using PopSteer.Streaming.Tests.Infrastructure;
using PopSteer.Streaming.Tests.Scoring;

namespace PopSteer.Streaming.Tests.Retraining;

/// <summary>The Prometheus endpoint (AddPopSteerMetrics, OpenTelemetry's HttpListener exporter) serving the Retrainer's drift gauges.</summary>
[Collection(RetrainerHostsCollection.Name)]
public sealed class MetricsEndpointTests(RedisServerFixture redis, KafkaFixture kafka)
    : IClassFixture<RedisServerFixture>, IClassFixture<KafkaFixture>, IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly ScratchDirectory _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task The_endpoint_serves_the_drift_gauges_in_prometheus_text_format()
    {
        var settings = RetrainerTestSettings.Create(kafka.BootstrapServers, redis.ConnectionString, _scratch.Sub("work"));
        var port = FreePort.Next();
        settings["Metrics:Port"] = port.ToString(CultureInfo.InvariantCulture);
        // Metrics:Host stays at its default "+" (every interface, what a pod needs).
        settings["Retrainer:MinEventsBetweenRefits"] = "1000000"; // measure only
        var baseDir = _scratch.Sub("base");
        TinyModelFactory.Create(baseDir, items: 30, seed: 7);
        await using (var services = new ServiceCollection().AddLogging().AddPopSteerStreamingForTests(settings).BuildServiceProvider())
            await services.GetRequiredService<ModelRegistry>().PublishAsync(baseDir);
        var events = RetrainerTestSettings.DriftTowardsTail(baseDir, users: 20, perUser: 10, seed: 1);

        await using var host = await TestHost.StartAsync(settings, (s, c) => s.AddRetrainer(c).AddPopSteerMetrics(c, "popsteer-retrainer-test"));
        var worker = host.Services.GetRequiredService<RetrainerWorker>();
        await KafkaTestClient.ProduceEventsAsync(settings.BootstrapServers, settings.InteractionsTopic, events);
        await Eventually.Until(() => worker.LastDrift?.Events == events.Count, Patience, () => $"drift measured over {worker.LastDrift?.Events} events");
        var expected = worker.LastDrift!;
        Assert.True(expected.JsDivergence > 0.1);

        using var http = new HttpClient();
        string text = "";
        await Eventually.Until(async () =>
        {
            text = await http.GetStringAsync($"http://127.0.0.1:{port}/metrics");
            return Gauge(text, "popsteer_retrainer_drift_js_divergence") is { } js && Math.Abs(js - expected.JsDivergence) < 1e-9;
        }, Patience, () => $"drift gauge not served as {expected.JsDivergence}:\n{text}");

        Assert.Contains("# TYPE popsteer_retrainer_drift_js_divergence gauge", text);
        Assert.Equal(expected.HeadOverlap, Gauge(text, "popsteer_retrainer_drift_head_overlap")!.Value, 9);
        Assert.Equal(events.Count, Gauge(text, "popsteer_retrainer_events_total"));
        Assert.Equal(events.Count, Gauge(text, "popsteer_retrainer_events_since_refit"));
        Assert.True(double.IsNaN(Gauge(text, "popsteer_retrainer_validation_fvu")!.Value)); // no refit yet
    }

    [Fact]
    public void A_bad_metrics_port_is_refused_naming_the_key()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Metrics:Port"] = "70000" }).Build();
        var e = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => new ServiceCollection().AddPopSteerMetrics(configuration, "x"));
        Assert.Contains("Metrics:Port", e.Message);
    }

    /// <summary>The value of the first sample of <paramref name="name"/> (with or without labels), or null.</summary>
    private static double? Gauge(string text, string name)
    {
        foreach (var line in text.Split('\n'))
        {
            if (!line.StartsWith(name, StringComparison.Ordinal)) continue;
            var rest = line[name.Length..];
            if (rest.Length == 0 || (rest[0] != ' ' && rest[0] != '{')) continue;
            var parts = rest[(rest[0] == '{' ? rest.IndexOf('}', StringComparison.Ordinal) + 1 : 0)..].Trim().Split(' ');
            return double.Parse(parts[0], CultureInfo.InvariantCulture);
        }
        return null;
    }
}
