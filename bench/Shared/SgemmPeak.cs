using System.Diagnostics;
using static TorchSharp.torch;

namespace PopSteer.BenchShared;

/// <summary>
/// The machine's yardstick, measured in the same run as the figures beside it: a large float32 matmul through the
/// same libtorch, at the same intra-op thread count. On a shared machine the peak moves with the load, so every
/// bench measures it next to each figure and reports the figure as a share of it, never of a remembered constant.
/// </summary>
public static class SgemmPeak
{
    /// <summary>
    /// GFLOP/s of n x n sgemm (2 n^3 FLOPs per call): the median call of those that fit in <paramref name="seconds"/>
    /// (the median, not the best, because a figure beside it is an average over seconds of the same load).
    /// </summary>
    public static double Measure(int n = 1024, double seconds = 0.6) => MeasureBoth(n, seconds).Wall;

    /// <summary>
    /// The median call's GFLOP/s on the wall clock, and GFLOP per CPU second of the calling thread over all calls
    /// (meaningful with one torch thread: see <see cref="CpuClock"/>).
    /// </summary>
    public static (double Wall, double PerCpuSecond) MeasureBoth(int n = 1024, double seconds = 0.6)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var a = randn(n, n);
        var b = randn(n, n);
        a.mm(b).Dispose(); // warm-up: thread pool start, page faults
        var rates = new List<double>();
        var total = Stopwatch.StartNew();
        double cpu0 = CpuClock.ThreadSeconds();
        int calls = 0;
        while (total.Elapsed.TotalSeconds < seconds || calls < 3)
        {
            var t = Stopwatch.GetTimestamp();
            a.mm(b).Dispose();
            double s = Stopwatch.GetElapsedTime(t).TotalSeconds;
            rates.Add(2.0 * n * n * n / s / 1e9);
            calls++;
        }
        double cpu = CpuClock.ThreadSeconds() - cpu0;
        rates.Sort();
        return (rates[rates.Count / 2], 2.0 * n * n * n * calls / cpu / 1e9);
    }

    /// <summary>One line for a report: the peak, the thread count it was measured with, and what it was measured as.</summary>
    public static string Describe(double gflops) =>
        $"same-run sgemm peak {gflops:F1} GFLOP/s (1024x1024 float32 matmul, median call, {get_num_threads()} torch thread(s))";
}
