using System.Diagnostics;
using PopSteer.BenchShared;
using PopSteer.Core.Scoring;

namespace PopSteer.Bench;

/// <summary>
/// The managed small-batch path's matrix product at the shapes one SASRec user needs (d = 64, F = 256, L = 50, the
/// SAE's h = 4,096, 3,417 item columns), in GFLOP per CPU second of one thread beside one-thread sgemm's; and the SAE
/// training step's two kernels per half batch of 64 (z^T = W_enc C^T for 32 rows, the top-32 of each column).
/// </summary>
internal static class KernelBench
{
    public static int Run(Args a)
    {
        double seconds = a.Double("seconds", 1);
        var (_, peakCpu) = SgemmPeak.MeasureBoth();
        Console.WriteLine($"one-thread sgemm: {peakCpu:F1} GFLOP per CPU second");
        foreach (var (m, k, n, what) in new[] { (50, 64, 192, "QKV"), (50, 64, 256, "feed-forward in"), (50, 256, 64, "feed-forward out"), (50, 64, 64, "attention out"), (1, 64, 4096, "SAE encode"), (1, 64, 3417, "item scores"), (4096, 64, 32, "SAE training z^T") })
        {
            var rng = new Random(1);
            var x = Enumerable.Range(0, m * k).Select(_ => (float)rng.NextDouble()).ToArray();
            var w = Enumerable.Range(0, k * n).Select(_ => (float)rng.NextDouble()).ToArray();
            var bias = new float[n];
            var c = new float[m * n];
            DenseKernels.MatMul(x, m, k, w, n, bias, c);
            long calls = 0;
            double cpu0 = CpuClock.ThreadSeconds();
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed.TotalSeconds < seconds)
            {
                for (int r = 0; r < 100; r++) DenseKernels.MatMul(x, m, k, w, n, bias, c);
                calls += 100;
            }
            double cpu = CpuClock.ThreadSeconds() - cpu0;
            double gflop = 2.0 * m * k * n * calls / 1e9 / cpu;
            Console.WriteLine($"{what,-18} [{m}x{k}]x[{k}x{n}]: {cpu / calls * 1e6,8:F2} us/call, {gflop,6:F1} GFLOP per CPU second = {gflop / peakCpu:P0} of sgemm");
        }
        {
            var rng = new Random(3);
            int h = 4096, n = 32, k = 32;
            var zT = Enumerable.Range(0, h * n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray(); // uniform: about 4k reach the bound
            var bias = new float[h];
            var lat = Enumerable.Range(0, h).ToArray();
            var idx = Enumerable.Range(0, n).Select(_ => new int[PopSteer.Core.Training.SaeTrainingStep.Candidates(k)]).ToArray();
            var val = Enumerable.Range(0, n).Select(_ => new float[PopSteer.Core.Training.SaeTrainingStep.Candidates(k)]).ToArray();
            var counts = new int[n]; var thr = new float[n];
            Time("SAE top-k by columns [4096x32]", seconds, () => () => PopSteer.Core.Training.SaeTrainingStep.SelectColumns(zT, n, bias, lat, k, idx, val, counts, thr));
        }
        Time("GELU [50x256]", seconds, () => { var v = new float[50 * 256]; for (int i = 0; i < v.Length; i++) v[i] = i % 7 - 3; return () => DenseKernels.Gelu(v); });
        Time("LayerNorm [50x64]", seconds, () =>
        {
            var v = new float[50 * 64]; var r = new float[50 * 64]; var g = new float[64]; var b = new float[64];
            for (int i = 0; i < v.Length; i++) v[i] = i % 5;
            Array.Fill(g, 1f);
            return () => DenseKernels.AddLayerNorm(v, r, 64, g, b, 1e-12f);
        });
        Time("exp x 2,550", seconds, () => { var v = new float[2550]; return () => { for (int i = 0; i < v.Length; i++) v[i] = MathF.Exp(-i * 1e-3f); }; });
        Time("cross-entropy row [3401], ExpUpToZero (copy in)", seconds, () => { var v = new float[3401]; var src = new float[3401]; for (int i = 0; i < v.Length; i++) src[i] = (i % 97) * 0.05f - 2; return () => { src.CopyTo(v, 0); DenseKernels.CrossEntropyRow(v, 5, 1f / 2048); }; });
        return 0;
    }

    private static void Time(string what, double seconds, Func<Action> setup)
    {
        var call = setup();
        call();
        long calls = 0;
        double cpu0 = CpuClock.ThreadSeconds();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            for (int r = 0; r < 100; r++) call();
            calls += 100;
        }
        Console.WriteLine($"{what,-18}: {(CpuClock.ThreadSeconds() - cpu0) / calls * 1e6,8:F2} us/call");
    }
}
