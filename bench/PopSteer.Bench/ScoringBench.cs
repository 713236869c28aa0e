using System.Diagnostics;
using PopSteer.Core.Data;
using PopSteer.Core.Model;
using PopSteer.Core.Scoring;
using PopSteer.Core.Steering;
using PopSteer.Core.Storage;
using PopSteer.BenchShared;
using static TorchSharp.torch;

namespace PopSteer.Bench;

/// <summary>
/// Steered scoring throughput (what the Scorer does per micro-batch: SASRec, SAE with z += shift, item scores, top-10)
/// for batch sizes 1, 64, 256, 1024, on the libtorch and the managed path, and the share it reaches of the sgemm peak
/// measured between rounds of the same row.
/// </summary>
internal static class ScoringBench
{
    public static int Run(Args a)
    {
        int items = a.Int("items", 3416), length = a.Int("length", 50);
        double seconds = a.Double("seconds", 3);
        var dir = a.Get("model") ?? BuildRandomModel(items);
        using var model = PopSteerModel.Load(dir);
        items = model.Items.Count;
        var plan = model.PlanFor(a.Double("alpha", 1.5), model.SaeWidth);
        var c = model.Manifest.SasRec;
        var sae = model.Manifest.Sae!;

        // FLOPs per user (multiply-add = 2), history of `length` items, every position computed:
        // Blocks before the last run every position; the last block needs keys/values everywhere but the query,
        // attention, output projection and feed-forward only at the last position (SasRec.UserVectors).
        double perToken = 8.0 * c.Dim * c.Dim + 4.0 * length * c.Dim + 4.0 * c.Dim * c.FeedForward;
        double lastBlock = length * 4.0 * c.Dim * c.Dim + (4.0 * c.Dim * c.Dim + 4.0 * length * c.Dim + 4.0 * c.Dim * c.FeedForward);
        double sasRec = (c.Blocks - 1) * length * perToken + lastBlock;
        double encode = 2.0 * c.Dim * sae.Width, decode = 2.0 * sae.K * c.Dim, scoring = 2.0 * c.Dim * items;
        double perUser = sasRec + encode + decode + scoring;
        Console.WriteLine($"model: d={c.Dim} blocks={c.Blocks} ff={c.FeedForward} L={length} items={items} SAE h={sae.Width} k={sae.K}; threads={get_num_threads()}");
        Console.WriteLine("FLOP model per user (2 per multiply-add):");
        Console.WriteLine($"  SASRec: {c.Blocks - 1} full block(s) x {length} positions x (8d^2 QKV+out + 4Ld attention + 4dF feed-forward)");
        Console.WriteLine($"          + last block: {length} x 4d^2 keys/values + one position's 4d^2 + 4Ld + 4dF = {sasRec / 1e6:F2} MFLOP");
        Console.WriteLine($"  SAE encode 2dh = {encode / 1e6:F3} MFLOP, sparse decode 2kd = {decode / 1e6:F3} MFLOP, item scores 2dn = {scoring / 1e6:F3} MFLOP");
        double startPeak = SgemmPeak.Measure();
        Console.WriteLine($"  total {perUser / 1e6:F2} MFLOP/user -> at the {SgemmPeak.Describe(startPeak)} the ceiling is {startPeak * 1e9 / perUser:F0} users/s");

        var rng = new Random(1);
        var batches = (a.Get("batches") ?? "1,64,256,1024").Split(',').Select(int.Parse).ToArray();
        // Up to the small-batch limit the Scorer uses the managed path; both are measured there, so the row shows the crossover.
        int managedUpTo = a.Int("managed-up-to", 4096);
        foreach (int batch in batches)
        {
            var histories = Enumerable.Range(0, batch).Select(_ => Enumerable.Range(0, length).Select(_ => rng.Next(1, items + 1)).ToArray()).ToArray();
            var paths = batch <= managedUpTo && model.HasSmallBatchPath ? new[] { ("libtorch", 0), ("managed", batch) } : [("libtorch", 0)];
            foreach (var (path, limit) in paths)
            {
                model.SmallBatchLimit = limit;
                // Warm-up for half a second: .NET compiles a method first without optimisation and recompiles the
                // hot ones a little later, so one call is not enough; the first row of a run measured tier-0 code.
                var warm = Stopwatch.StartNew();
                do model.Recommend(histories, ScoringMethod.PopSteer, plan, 10);
                while (warm.Elapsed.TotalSeconds < 0.5);
                // Rounds of scoring, each followed by the yardstick: on this shared, unsteady machine the sgemm rate moves
                // by tens of percent within a minute, so each round's rate is taken against the peak measured right after
                // it, and the share is the mean of the rounds' shares (their range says how steady the machine was).
                const int rounds = 5;
                int calls = 0;
                double scoringSeconds = 0, cpuSeconds = 0;
                var shares = new List<double>();
                var cpuShares = new List<double>();
                var peaks = new List<double>();
                for (int round = 0; round < rounds; round++)
                {
                    int roundCalls = 0;
                    var clock = Stopwatch.StartNew();
                    double cpu0 = CpuClock.ThreadSeconds();
                    while (clock.Elapsed.TotalSeconds < seconds / rounds || roundCalls < 2)
                    {
                        model.Recommend(histories, ScoringMethod.PopSteer, plan, 10);
                        roundCalls++;
                    }
                    double elapsed = clock.Elapsed.TotalSeconds, cpu = CpuClock.ThreadSeconds() - cpu0;
                    var (peak, peakCpu) = SgemmPeak.MeasureBoth(seconds: 0.3);
                    shares.Add(roundCalls * batch * perUser / elapsed / 1e9 / peak);
                    cpuShares.Add(roundCalls * batch * perUser / cpu / 1e9 / peakCpu);
                    peaks.Add(peak);
                    calls += roundCalls;
                    scoringSeconds += elapsed;
                    cpuSeconds += cpu;
                }
                double usersPerSecond = calls * batch / scoringSeconds, usersPerCpuSecond = calls * batch / cpuSeconds;
                double gflops = usersPerSecond * perUser / 1e9;
                Console.WriteLine($"batch {batch,5} {path,-8}: {usersPerSecond,9:F0} users/s, {scoringSeconds * 1000 / calls,8:F3} ms/call, {gflops,6:F1} GFLOP/s = {shares.Average():P1} of the same-run sgemm peak " +
                                  $"(mean of {rounds} rounds, each against the peak right after it: {shares.Min():P0}-{shares.Max():P0}; peaks {peaks.Min():F0}-{peaks.Max():F0} GFLOP/s)");
                if (get_num_threads() == 1) // with more threads the calling thread's CPU is only part of the work
                    Console.WriteLine($"             per CPU second of the scoring thread: {usersPerCpuSecond,9:F0} users, {usersPerCpuSecond * perUser / 1e9:F1} GFLOP = {cpuShares.Average():P1} of sgemm's GFLOP per CPU second");
            }
        }
        return 0;
    }

    /// <summary>An ML-1M-sized model directory with random weights: speed does not depend on what the weights learned.</summary>
    internal static string BuildRandomModel(int items)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"popsteer-bench-random-{items}");
        random.manual_seed(1);
        using var sasRec = new SasRec(new SasRecConfig { ItemCount = items });
        using var sae = new TopKSae(SaeConfig.ForDim(64));
        var rng = new Random(2);
        float[] R(double scale) => Enumerable.Range(0, sae.Width).Select(_ => (float)(rng.NextDouble() * scale)).ToArray();
        var d = Enumerable.Range(0, sae.Width).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
        var stats = new NeuronStats(R(1), R(1), R(1), R(1), d);
        var counts = new long[items + 1];
        for (int i = 1; i <= items; i++) counts[i] = 1 + (long)(10000.0 / i);
        var vocab = new ItemVocabulary(Enumerable.Range(1, items).Select(i => i.ToString()));
        ModelDirectory.Save(dir, new ModelManifest { DataFingerprint = "random" }, vocab, sasRec, sae, stats, PopularityGroups.FromCounts(counts));
        return dir;
    }
}
