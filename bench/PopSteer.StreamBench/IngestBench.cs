using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PopSteer.Embedded;
using PopSteer.Ingest;
using PopSteer.Streaming.Configuration;
using PopSteer.Streaming.Kafka;
using PopSteer.Streaming.Replay;

namespace PopSteer.StreamBench;

/// <summary>
/// Ingest end to end (Kafka -> validate -> Redis -> signals -> commit), hosted exactly as in production: a backlog
/// drained from a standing start, and a live replay at full speed.
/// </summary>
internal static class IngestBench
{
    public static void Run(string bootstrap, int count)
    {
        using var redis = LocalRedisServer.Start();
        var events = Events.Make(count, users: 10_000, items: 3_000, seed: 3);
        var kafka = new KafkaClientFactory(Options.Create(new KafkaOptions { BootstrapServers = bootstrap }));
        var replay = new InteractionReplay(kafka);

        // Backlog: everything is in Kafka before Ingest starts.
        var backlogTopic = $"bench.ingest.backlog.{Guid.NewGuid():N}";
        replay.RunAsync(events, backlogTopic).GetAwaiter().GetResult();
        using (var host = StartIngest(bootstrap, redis, backlogTopic, out var metrics))
        {
            var (firstBatch, done) = WaitFor(metrics, count);
            Console.WriteLine($"ingest, backlog of {count:N0}:  {count / (done - firstBatch).TotalSeconds,10:N0} events/s  (from the first committed batch; {metrics.Batches:N0} batches, {metrics.SignalsSent:N0} signals)");
            host.StopAsync().GetAwaiter().GetResult();
        }

        // Live: Ingest already running, events replayed as fast as the producer goes.
        var liveTopic = $"bench.ingest.live.{Guid.NewGuid():N}";
        replay.RunAsync(events.Take(10), liveTopic).GetAwaiter().GetResult(); // create the topic so the group joins first
        using (var host = StartIngest(bootstrap, redis, liveTopic, out var metrics))
        {
            while (metrics.EventsApplied < 10) Thread.Sleep(50);
            var clock = Stopwatch.StartNew();
            var live = Events.Make(count, users: 10_000, items: 3_000, seed: 4);
            var produced = replay.RunAsync(live, liveTopic).GetAwaiter().GetResult();
            var producedAt = clock.Elapsed;
            while (metrics.EventsApplied < count + 10) Thread.Sleep(20);
            Console.WriteLine($"ingest, live replay of {count:N0}: {count / clock.Elapsed.TotalSeconds,10:N0} events/s  (producer alone {produced.EventsPerSecond:N0}/s, done {producedAt.TotalSeconds:0.0} s; applied all at {clock.Elapsed.TotalSeconds:0.0} s)");
            host.StopAsync().GetAwaiter().GetResult();
        }
    }

    private static (TimeSpan FirstBatch, TimeSpan Done) WaitFor(IngestMetrics metrics, long count)
    {
        var clock = Stopwatch.StartNew();
        TimeSpan? first = null;
        while (metrics.EventsApplied < count)
        {
            if (first is null && metrics.Batches > 0) first = clock.Elapsed;
            Thread.Sleep(10);
        }
        return (first ?? TimeSpan.Zero, clock.Elapsed);
    }

    private static IHost StartIngest(string bootstrap, LocalRedisServer redis, string topic, out IngestMetrics metrics)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        var id = Guid.NewGuid().ToString("N")[..8];
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Kafka:BootstrapServers"] = bootstrap,
            ["Kafka:Topics:Interactions"] = topic,
            ["Kafka:Topics:UsersChanged"] = $"{topic}.changed",
            ["Kafka:Topics:DeadLetter"] = $"{topic}.dlq",
            ["Redis:Configuration"] = redis.ConnectionString,
            ["Redis:KeyPrefix"] = $"b{id}",
            ["Ingest:GroupId"] = $"bench-ingest-{id}",
        });
        // Any Ingest setting can be tried without a rebuild: Ingest__OverlapDelivery=false, Ingest__MaxBatchSize=250, ...
        builder.Configuration.AddEnvironmentVariables();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddIngest(builder.Configuration);
        var host = builder.Build();
        host.Start();
        metrics = host.Services.GetRequiredService<IngestMetrics>();
        return host;
    }
}
