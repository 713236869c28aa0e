using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PopSteer.BenchShared;
using PopSteer.Cli.Demo;
using PopSteer.Core.Scoring;
using PopSteer.Embedded;
using PopSteer.Scorer;
using PopSteer.Scorer.Bench;
using PopSteer.Streaming.Configuration;
using PopSteer.Streaming.Contracts;
using PopSteer.Streaming.DependencyInjection;
using PopSteer.Streaming.Registry;
using PopSteer.Streaming.Sequences;

// Scorer throughput in the pipeline: a backlog of UserChanged signals on the embedded (mock) Kafka cluster, user
// sequences in a real Redis, the real Scorer host (AddScorer) draining it. Reports recommendations/s over the steady
// part of the run and the batch latency (assembled -> published and committed) p50/p99 from the Scorer's own meter.
//
//   redis-server --port 6390 --save "" --appendonly no --daemonize yes
//   dotnet run -c Release --project bench/PopSteer.Scorer.Bench -- --redis 127.0.0.1:6390 [--model DIR]
//        [--users 5000] [--signals 50000] [--batch 256] [--wait-ms 20] [--threads 2] [--alpha 1.5] [--in-flight 2] [--read-ahead true|false] [--concurrent 1]
// The embedded broker keeps at most 5 MB per partition (librdkafka's mock drops the oldest message sets beyond it),
// so the backlog goes to production's 12 partitions: 50,000 signals are ~1 MB a partition.
var a = ParseArgs(args);
string redis = a.GetValueOrDefault("redis") ?? throw new ArgumentException("--redis HOST:PORT is required (start one: redis-server --port 6390 --save \"\" --appendonly no)");
int users = Int("users", 5000), signals = Int("signals", 50_000), batch = Int("batch", 256), waitMs = Int("wait-ms", 20), threads = Int("threads", 2), inFlight = Int("in-flight", 2), concurrent = Int("concurrent", 1);
double alpha = double.Parse(a.GetValueOrDefault("alpha") ?? "1.5", CultureInfo.InvariantCulture);
bool readAhead = bool.Parse(a.GetValueOrDefault("read-ahead") ?? "true");
var callShares = new List<double>(); // the model call's share of the sgemm peak, before and after the run

// The yardstick, at the Scorer's thread count, before and after the run (the load on a shared machine moves).
PopSteer.Core.TorchRuntime.ConfigureThreads(threads);
double peakBefore = SgemmPeak.Measure(seconds: 1);
Console.WriteLine("before: " + SgemmPeak.Describe(peakBefore));

var modelDir = a.GetValueOrDefault("model");
if (modelDir is null)
{
    modelDir = Path.Combine(Path.GetTempPath(), "popsteer-scorer-bench-model");
    if (!File.Exists(Path.Combine(modelDir, "manifest.json")))
    {
        Console.WriteLine("building a paper-size random-weight model (d=64, h=4096, 3416 items) ...");
        PaperSizeModel.Create(modelDir);
    }
}

using var broker = new EmbeddedKafkaBroker();
var id = Guid.NewGuid().ToString("N")[..8];
var settings = new Dictionary<string, string?>
{
    ["Kafka:BootstrapServers"] = broker.BootstrapServers,
    ["Kafka:Topics:UsersChanged"] = $"bench.users.changed.{id}",
    ["Kafka:Topics:Recommendations"] = $"bench.recommendations.{id}",
    ["Kafka:Topics:Models"] = $"bench.models.{id}",
    ["Kafka:Topics:Interactions"] = $"bench.interactions.{id}",
    ["Kafka:Topics:DeadLetter"] = $"bench.deadletter.{id}",
    ["Kafka:Producer:linger.ms"] = "5",
    ["Redis:Configuration"] = redis,
    ["Redis:KeyPrefix"] = $"bench{id}",
    ["Scoring:MaxBatchSize"] = batch.ToString(CultureInfo.InvariantCulture),
    ["Scoring:MaxBatchWait"] = TimeSpan.FromMilliseconds(waitMs).ToString(),
    ["Scoring:TorchThreads"] = threads.ToString(CultureInfo.InvariantCulture),
    ["Scoring:BatchesInFlight"] = inFlight.ToString(CultureInfo.InvariantCulture),
    ["Scoring:ReadAhead"] = readAhead ? "true" : "false",
    ["Scoring:ConcurrentBatches"] = concurrent.ToString(CultureInfo.InvariantCulture),
    ["Scoring:GroupId"] = $"bench-scorer-{id}",
    ["Scoring:ModelCacheDirectory"] = Path.Combine(Path.GetTempPath(), $"popsteer-bench-cache-{id}"),
    ["Steering:Alpha"] = alpha.ToString(CultureInfo.InvariantCulture),
};
var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
broker.CreateTopics(EmbeddedKafkaBroker.ProductionTopics(configuration.GetSection("Kafka:Topics").Get<KafkaTopicOptions>()!));

// Publish the model and fill Redis with one history per user (items drawn from the model's vocabulary).
using (var shared = new ServiceCollection().AddLogging().AddPopSteerStreaming(configuration).AddModelRegistry(configuration).BuildServiceProvider())
{
    var info = await shared.GetRequiredService<ModelRegistry>().PublishAsync(modelDir);
    using var model = PopSteerModel.Load(modelDir);
    var store = shared.GetRequiredService<SequenceStore>();
    var rnd = new Random(1);
    var known = model.Items.ExternalIds;
    long offset = 0;
    for (int u0 = 0; u0 < users; u0 += 500)
    {
        var appends = new List<SequenceAppend>();
        for (int u = u0; u < Math.Min(users, u0 + 500); u++)
            for (int j = 0; j < model.MaxLength; j++)
                appends.Add(new SequenceAppend($"u{u}", known[rnd.Next(known.Count)], DateTimeOffset.UnixEpoch.AddSeconds(j), "bench", 0, offset++));
        await store.AppendAsync(appends);
    }
    Console.WriteLine($"model {info.Version} ({model.Items.Count} items, SAE width {model.SaeWidth}); {users} users x {model.MaxLength} items in Redis");

    // The model call alone, same batch size, same threads: the ceiling the pipeline can approach. Each timing is
    // followed by the sgemm yardstick, so the call's rate can be read as a share of the machine at that moment.
    PopSteer.Core.TorchRuntime.ConfigureThreads(threads);
    foreach (var method in new[] { ScoringMethod.PopSteer, ScoringMethod.SasRec })
    {
        double ms = ModelCall(model, batch, method);
        double atPeak = SgemmPeak.Measure(seconds: 0.5);
        Console.WriteLine($"model call alone ({method}): {DescribeModelCall(ms, batch)} = {Share(batch, ms, atPeak):P1} of the sgemm peak just after it ({atPeak:F1} GFLOP/s)");
        if (method == ScoringMethod.PopSteer) callShares.Add(Share(batch, ms, atPeak));
    }
}

// The backlog: signals for random users, produced before the Scorer starts.
using (var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = broker.BootstrapServers, LingerMs = 5, EnableIdempotence = true }).Build())
{
    var rnd = new Random(2);
    for (int i = 0; i < signals; i++)
    {
        var user = $"u{rnd.Next(users)}";
        var signal = new UserChanged { UserId = user, LastEventId = $"e{i}", LastItemId = "-", EventTimestamp = DateTimeOffset.UtcNow, EnqueuedAt = DateTimeOffset.UtcNow };
        while (true)
        {
            try
            {
                producer.Produce(settings["Kafka:Topics:UsersChanged"], new Message<string, byte[]> { Key = user, Value = JsonSerializer.SerializeToUtf8Bytes(signal, StreamingJsonContext.Default.UserChanged) });
                break;
            }
            catch (ProduceException<string, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                producer.Poll(TimeSpan.FromMilliseconds(20));
            }
        }
    }
    producer.Flush(TimeSpan.FromSeconds(60));
    Console.WriteLine($"{signals} signals produced");
}

// The Scorer's own instruments are the measurement.
var durations = new List<double>();
var stages = new Dictionary<string, List<double>>();
var batchDone = new List<(double At, long Users)>();
long signalsDone = 0;
var clock = Stopwatch.StartNew();
using var listener = new MeterListener();
listener.InstrumentPublished = (i, l) => { if (i.Meter.Name == ScorerMetrics.MeterName) l.EnableMeasurementEvents(i); };
listener.SetMeasurementEventCallback<double>((i, v, tags, _) =>
{
    if (i.Name == "popsteer.scorer.batch.duration") lock (durations) durations.Add(v);
    if (i.Name == "popsteer.scorer.stage.duration")
        lock (stages)
        {
            var name = (string)tags[0].Value!;
            if (!stages.TryGetValue(name, out var list)) stages[name] = list = [];
            list.Add(v);
        }
});
long readAheads = 0;
listener.SetMeasurementEventCallback<long>((i, v, _, _) =>
{
    if (i.Name == "popsteer.scorer.batches_read_ahead") Interlocked.Add(ref readAheads, v);
    if (i.Name == "popsteer.scorer.users_scored") lock (batchDone) batchDone.Add((clock.Elapsed.TotalSeconds, v));
    if (i.Name == "popsteer.scorer.signals") Interlocked.Add(ref signalsDone, v);
});
listener.Start();

var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
builder.Configuration.AddConfiguration(configuration);
builder.Services.AddLogging(l => l.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
builder.Services.AddScorer(builder.Configuration);
using var host = builder.Build();
// Where the cores go while the backlog drains: this process's threads by name, and the Redis server beside it.
using var redisInfo = StackExchange.Redis.ConnectionMultiplexer.Connect(redis + ",allowAdmin=true"); // INFO is an admin command
double RedisCpuSeconds() => redisInfo.GetServers()[0].Info("cpu").SelectMany(g => g)
    .Where(kv => kv.Key is "used_cpu_sys" or "used_cpu_user").Sum(kv => double.Parse(kv.Value, CultureInfo.InvariantCulture));
double redisCpuBefore = RedisCpuSeconds();
var threadCpu = ThreadCpu.Start();
using var gcActivity = new GcActivity(); // the Scorer's process alone: the GC mode is the Scorer's (its csproj; DOTNET_gcServer=0 for workstation)
await host.StartAsync();
while (Interlocked.Read(ref signalsDone) < signals)
{
    await Task.Delay(200);
    if (clock.Elapsed > TimeSpan.FromMinutes(10)) throw new TimeoutException($"only {signalsDone} of {signals} signals scored in 10 minutes");
}
var cpuUsed = threadCpu?.Stop();
var gcUsed = gcActivity.Stop();
double redisCpu = RedisCpuSeconds() - redisCpuBefore;
await host.StopAsync();

// Steady state: from the end of the first batch to the end of the last (excludes group join and model load).
double first = batchDone[0].At, last = batchDone[^1].At;
long recs = batchDone.Skip(1).Sum(b => b.Users);
double[] sorted = [.. durations.Order()];
double P(double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
Console.WriteLine($"threads={threads} batch<={batch} wait={waitMs}ms alpha={alpha} batches in flight={inFlight} read ahead={readAhead} concurrent batches={concurrent}");
Console.WriteLine($"batches {batchDone.Count} ({Interlocked.Read(ref readAheads)} read ahead), recommendations {batchDone.Sum(b => b.Users)} (mean {batchDone.Average(b => b.Users):F1} users/batch after de-duplication)");
Console.WriteLine($"throughput {recs / (last - first):F0} recommendations/s (steady span {last - first:F2} s, first batch excluded)");
Console.WriteLine($"batch latency p50 {P(0.50):F1} ms, p99 {P(0.99):F1} ms, max {sorted[^1]:F1} ms");
Console.WriteLine("mean per batch: " + string.Join(", ", stages.Select(kv => $"{kv.Key} {kv.Value.Average():F1} ms")));
if (cpuUsed is { } used)
{
    double wall = used.WallSeconds, total = used.Groups.Sum(g => g.Seconds);
    Console.WriteLine($"CPU from the Scorer's start to the last signal: this process {total / wall:F2} cores, redis-server {redisCpu / wall:F2} cores, of {Environment.ProcessorCount} ({wall:F1} s); " +
                      "by thread (cores): " + string.Join(", ", used.Groups.Take(10).Select(g => $"{g.Group} {g.Seconds / wall:F2}")));
}
Console.WriteLine($"{gcUsed} (server GC: {System.Runtime.GCSettings.IsServerGC})");
double peakAfter = SgemmPeak.Measure(seconds: 1);
Console.WriteLine("after: " + SgemmPeak.Describe(peakAfter));
// Shares use the FLOP model of PopSteer.Bench scoring (7.43 MFLOP per user at the paper's shapes, 50-item histories).
double meanUsers = batchDone.Average(b => b.Users), gflops = recs / (last - first) * 7.43e6 / 1e9, peak = (peakBefore + peakAfter) / 2;
Console.WriteLine($"recommendations/s x 7.43 MFLOP = {gflops:F1} GFLOP/s = {gflops / peak:P1} of the mean same-run sgemm peak {peak:F1} GFLOP/s");
// With batches scored at once the stage is one batch on one thread, and two of them overlap: no ratio to compare.
if (concurrent == 1 && stages.TryGetValue("score", out var score))
    Console.WriteLine($"model call in the pipeline (score stage): {meanUsers / (score.Average() / 1000):F0} users/s ({score.Average():F1} ms per batch of {meanUsers:F1}); " +
                      $"the pipeline's rate is {recs / (last - first) / (meanUsers / (score.Average() / 1000)):P0} of it");
// The same call alone, after the run, at the pipeline's mean batch size: what the call does without the pipeline's
// other threads (broker, producer, Redis client) on the same cores.
using (var model = PopSteerModel.Load(modelDir))
{
    int size = (int)Math.Round(meanUsers);
    double ms = ModelCall(model, size, ScoringMethod.PopSteer);
    double atPeak = SgemmPeak.Measure(seconds: 0.5);
    callShares.Add(Share(size, ms, atPeak));
    Console.WriteLine($"model call alone after the run: {DescribeModelCall(ms, size)} = {callShares[^1]:P1} of the sgemm peak just after it ({atPeak:F1} GFLOP/s); " +
                      $"the pipeline's rate is {recs / (last - first) / (size * 1000 / ms):P0} of it");
}
// Rates taken minutes apart on this machine differ by up to 2x (docs/speed.md), so the ratio that item 5 asks for is
// also given as shares of the machine: the pipeline's share of the peak measured around it, over the call's share of
// the peak measured right after the call (before and after the run).
double pipelineShare = gflops / peak;
Console.WriteLine($"item 5, each against the machine at its moment: pipeline {pipelineShare:P1} of the peak / model call alone " +
                  string.Join(" and ", callShares.Select(c => $"{c:P1}")) + " = " + string.Join(" and ", callShares.Select(c => $"{pipelineShare / c:P0}")) +
                  " (before / after the run)");
return 0;

static double Share(int users, double ms, double peakGflops) => users * 7.43e6 / (ms / 1000) / 1e9 / peakGflops;

// Median of 20 calls (after one warm-up) on random full-length histories, in ms.
double ModelCall(PopSteerModel model, int size, ScoringMethod method)
{
    var rnd = new Random(3);
    var histories = Enumerable.Range(0, size).Select(_ => Enumerable.Range(0, model.MaxLength).Select(_ => 1 + rnd.Next(model.Items.Count)).ToArray()).ToArray();
    var plan = model.PlanFor(alpha, model.SaeWidth);
    model.Recommend(histories, method, plan, 10);
    var times = new double[20];
    for (int r = 0; r < times.Length; r++)
    {
        var timer = Stopwatch.StartNew();
        model.Recommend(histories, method, plan, 10);
        times[r] = timer.Elapsed.TotalMilliseconds;
    }
    Array.Sort(times);
    return times[times.Length / 2];
}

static string DescribeModelCall(double ms, int size) => $"{ms:F1} ms per batch of {size} (median of 20) = {size * 1000 / ms:F0} users/s";

int Int(string name, int fallback) => a.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

static Dictionary<string, string> ParseArgs(string[] args)
{
    var values = new Dictionary<string, string>(StringComparer.Ordinal);
    for (int i = 0; i < args.Length; i++)
    {
        if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"unexpected argument '{args[i]}'");
        values[args[i][2..]] = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : "true";
    }
    return values;
}
