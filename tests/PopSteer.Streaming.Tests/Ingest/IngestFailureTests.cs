using Microsoft.Extensions.DependencyInjection;
using PopSteer.Ingest;
using PopSteer.Streaming.Kafka;
using PopSteer.Streaming.Replay;
using PopSteer.Streaming.Sequences;
using PopSteer.Streaming.Tests.Infrastructure;
using Xunit.Abstractions;

namespace PopSteer.Streaming.Tests.Ingest;

/// <summary>Crashes and outages: every user's sequence must still equal the event log exactly once.</summary>
public sealed class IngestFailureTests(KafkaFixture kafka, ITestOutputHelper output) : IClassFixture<KafkaFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Killing_the_ingest_process_mid_stream_and_restarting_it_loses_and_doubles_nothing()
    {
        using var redis = new RedisServerFixture();
        var settings = new TestSettings(kafka.BootstrapServers, redis.ConnectionString);
        // Small batches: many commits, so the kill is likely to land between a Redis write and its commit.
        settings["Ingest:MaxBatchSize"] = "50";
        var events = TestEvents.Generate(users: 150, items: 300, count: 4000, seed: 11);
        var truth = TestEvents.GroundTruth(events);
        using var services = StreamingServices.Build(settings);
        var store = services.GetRequiredService<SequenceStore>();
        var users = truth.Keys.ToArray();

        var replay = new InteractionReplay(services.GetRequiredService<KafkaClientFactory>());

        // A first slice shows the process has joined and works; the rest streams at a steady rate through the kill.
        await replay.RunAsync(events.Take(200), settings.InteractionsTopic);
        Task<ReplayResult> streaming;
        long atKill;
        using (var first = ServiceProcess.Start(settings))
        {
            await Eventually.Until(async () => await SequenceAssert.StoredCount(store, users) >= 200, Patience,
                () => $"first process made no progress:\n{first.Output}");
            streaming = replay.RunAsync(events.Skip(200), settings.InteractionsTopic, eventsPerSecond: 1000);
            await Task.Delay(1000);
            first.KillHard();
            atKill = await SequenceAssert.StoredCount(store, users);
            output.WriteLine($"killed with {atKill} of {events.Count} events stored");
        }
        Assert.InRange(atKill, 200, events.Count - 1);

        await Task.Delay(500); // events keep arriving while nobody consumes
        using var second = ServiceProcess.Start(settings);
        var sent = await streaming;
        Assert.Equal(0, sent.Failed);
        await Eventually.Until(async () => await SequenceAssert.StoredCount(store, users) >= events.Count, Patience,
            () => $"restarted process stalled:\n{second.Output}");
        Assert.True(second.Terminate(TimeSpan.FromSeconds(30)), $"ingest did not stop on SIGTERM:\n{second.Output}");
        output.WriteLine(string.Join('\n', second.Output.Split('\n').Where(l => l.Contains("stopped after", StringComparison.Ordinal))));

        await SequenceAssert.MatchesGroundTruth(store, truth);
    }

    [Fact]
    public async Task Redis_outage_mid_stream_commits_nothing_then_resumes_and_applies_everything_exactly_once()
    {
        // AOF with fsync per write: what Redis acknowledged before the crash is there after the restart.
        using var redis = RedisServerFixture.StartWithAppendOnlyFile();
        var settings = new TestSettings(kafka.BootstrapServers, redis.ConnectionString);
        settings["Ingest:MaxBatchSize"] = "100";
        settings["Ingest:RetryPause"] = "00:00:00.200";
        var events = TestEvents.Generate(users: 100, items: 200, count: 3000, seed: 5);
        var truth = TestEvents.GroundTruth(events);

        await using var ingest = await TestHost.StartAsync(settings, (s, c) => s.AddIngest(c));
        var metrics = ingest.Services.GetRequiredService<IngestMetrics>();
        var store = ingest.Services.GetRequiredService<SequenceStore>();

        // The stream keeps flowing through the outage.
        var producing = Task.Run(async () =>
        {
            foreach (var chunk in events.Chunk(150))
            {
                await KafkaTestClient.ProduceEventsAsync(settings.BootstrapServers, settings.InteractionsTopic, chunk);
                await Task.Delay(150);
            }
        });

        await Eventually.Until(() => metrics.EventsApplied >= 500, Patience, () => $"{metrics.EventsApplied} applied before the outage");
        redis.Stop();
        await Task.Delay(1000);
        var committedBatches = metrics.Batches;
        await Task.Delay(3000);
        Assert.Equal(committedBatches, metrics.Batches); // nothing committed while Redis is down
        Assert.True(metrics.EventsApplied < events.Count);
        redis.Start();

        await producing;
        await Eventually.Until(async () => await SequenceAssert.StoredCount(store, truth.Keys) >= events.Count, Patience,
            () => $"{metrics.EventsApplied} applied after the outage");
        await SequenceAssert.MatchesGroundTruth(store, truth);
    }
}
