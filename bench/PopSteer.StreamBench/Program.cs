using System.Diagnostics;
using PopSteer.Embedded;
using PopSteer.StreamBench;

// Streaming ceilings and Ingest throughput on this machine. Modes: kafka | redis | ingest | all   [--events N]
var mode = args.Length > 0 ? args[0] : "all";
var countAt = Array.IndexOf(args, "--events");
var count = countAt >= 0 && countAt + 1 < args.Length ? int.Parse(args[countAt + 1], System.Globalization.CultureInfo.InvariantCulture) : 100_000; // the mock cluster keeps ~5 MB per partition: more would age out before it is read
Console.WriteLine($"PopSteer streaming bench: {Environment.ProcessorCount} cores, {count:N0} events, mode {mode}");
// The machine's yardstick now (these ceilings are not FLOP-bound, but a busy machine lowers them all alike).
Console.WriteLine("before: " + PopSteer.BenchShared.SgemmPeak.Describe(PopSteer.BenchShared.SgemmPeak.Measure(seconds: 1)));
var clock = Stopwatch.StartNew();

using var broker = mode is "kafka" or "ingest" or "all" ? new EmbeddedKafkaBroker(3) : null;
if (mode is "kafka" or "all") KafkaBench.Run(broker!.BootstrapServers, count);
if (mode is "redis" or "all") RedisBench.Run(count);
if (mode is "ingest" or "all") IngestBench.Run(broker!.BootstrapServers, count);
if (mode is not ("kafka" or "redis" or "ingest" or "all"))
{
    Console.Error.WriteLine("usage: PopSteer.StreamBench [kafka|redis|ingest|all] [--events N]");
    return 2;
}
Console.WriteLine("after: " + PopSteer.BenchShared.SgemmPeak.Describe(PopSteer.BenchShared.SgemmPeak.Measure(seconds: 1)));
Console.WriteLine($"total wall time {clock.Elapsed}");
return 0;
