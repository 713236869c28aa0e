using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using PopSteer.Embedded;
using PopSteer.Streaming.DependencyInjection;
using PopSteer.Streaming.Sequences;

namespace PopSteer.StreamBench;

/// <summary>Redis ceilings: redis-benchmark with pipelining, then SequenceStore's Lua append and ReadMany as Ingest/Scorer use them.</summary>
internal static class RedisBench
{
    public static void Run(int count)
    {
        using var redis = LocalRedisServer.Start();
        foreach (var pipeline in new[] { 1, 16 })
        {
            var args = $"-p {redis.Port} -P {pipeline} -t lpush,rpush,set -n {Math.Max(count, 100_000)} -r 10000 -q";
            Console.WriteLine($"redis-benchmark {args}");
            var run = Process.Start(new ProcessStartInfo("redis-benchmark", args) { RedirectStandardOutput = true, UseShellExecute = false })!;
            foreach (var line in run.StandardOutput.ReadToEnd().Split('\r', '\n').Where(l => l.Contains("requests per second", StringComparison.Ordinal)))
                Console.WriteLine($"  {line.Trim()}");
            run.WaitForExit();
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Redis:Configuration"] = redis.ConnectionString,
            ["Redis:KeyPrefix"] = "bench",
            ["Sequences:MaxLength"] = "200",
        }).Build();
        using var services = new ServiceCollection().AddLogging().AddSequenceStore(configuration).BuildServiceProvider();
        var store = services.GetRequiredService<SequenceStore>();
        var events = Events.Make(count, users: 10_000, items: 3_000, seed: 2);

        foreach (var batchSize in new[] { 100, 1000 })
        {
            var topic = $"bench-{batchSize}";
            var clock = Stopwatch.StartNew();
            var offset = 0L;
            foreach (var batch in events.Chunk(batchSize))
            {
                var appends = batch.Select(e => new SequenceAppend(e.UserId, e.ItemId, e.Timestamp, topic, 0, offset++)).ToArray();
                store.AppendAsync(appends).GetAwaiter().GetResult();
            }
            Console.WriteLine($"SequenceStore.AppendAsync (one Lua call per user, pipelined), batches of {batchSize,4}: {count / clock.Elapsed.TotalSeconds,10:N0} events/s");
        }

        var users = events.Select(e => e.UserId).Distinct().ToArray();
        var readClock = Stopwatch.StartNew();
        var reads = 0;
        foreach (var batch in users.Chunk(256))
        {
            store.ReadManyAsync(batch).GetAwaiter().GetResult();
            reads += batch.Length;
        }
        Console.WriteLine($"SequenceStore.ReadManyAsync, 256 users per round trip:                {reads / readClock.Elapsed.TotalSeconds,10:N0} users/s");
    }
}
