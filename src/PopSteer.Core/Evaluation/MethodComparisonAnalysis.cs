using System.Globalization;
using PopSteer.Core.Statistics;

namespace PopSteer.Core.Evaluation;

/// <summary>
/// The statistics of <see cref="MethodComparison"/>, computed from the top-K lists each method produced: per-user
/// NDCG@10, Gini@10 over any resample of users, the paired tests and bootstrap intervals, the validation fronts and
/// the verdict lines. Kept apart from the tuning loop so every output (console, Markdown, CSV, JSON) reads the same
/// numbers.
/// </summary>
internal static class MethodComparisonAnalysis
{
    /// <summary>Per-user NDCG@k with one held-out target: 1/log2(rank + 2) when the target is in the list, else 0.</summary>
    public static double[] UserNdcg(IReadOnlyList<int[]> lists, IReadOnlyList<int> targets, int k)
    {
        var ndcg = new double[lists.Count];
        for (int u = 0; u < lists.Count; u++)
        {
            int len = Math.Min(k, lists[u].Length);
            for (int r = 0; r < len; r++)
                if (lists[u][r] == targets[u]) { ndcg[u] = 1.0 / Math.Log2(r + 2); break; }
        }
        return ndcg;
    }

    /// <summary>
    /// Gini@k of the exposure counts of the users in <paramref name="draw"/> (a user drawn twice counts twice), over
    /// all <paramref name="items"/> items: the same formula as RankingEvaluator.Gini, without its allocations.
    /// </summary>
    public static double Gini(IReadOnlyList<int[]> lists, IReadOnlyList<int> draw, int items, int k, long[] buffer)
    {
        Array.Clear(buffer);
        long total = 0;
        foreach (int u in draw)
        {
            var list = lists[u];
            int len = Math.Min(k, list.Length);
            for (int r = 0; r < len; r++) buffer[list[r] - 1]++;
            total += len;
        }
        if (total == 0) return 0;
        Array.Sort(buffer, 0, items);
        double acc = 0;
        for (int r = 1; r <= items; r++) acc += (2.0 * r - items - 1) * buffer[r - 1];
        return acc / ((double)items * total);
    }

    public static PairedComparison Pair(string method, string against, Lists a, Lists b, BootstrapInterval bootstrap, int items, int k)
    {
        var bufferA = new long[items];
        var bufferB = new long[items];
        var gini = bootstrap.Of(draw => Gini(a.Items, draw, items, k, bufferA) - Gini(b.Items, draw, items, k, bufferB));
        return new PairedComparison(method, against, bootstrap.MeanDifference(a.Ndcg, b.Ndcg), gini,
            PairedTests.TTest(a.Ndcg, b.Ndcg), PairedTests.Wilcoxon(a.Ndcg, b.Ndcg));
    }

    /// <summary>
    /// The bootstrap interval of gain(a) - gain(b) for the selection score on one split, SASRec (<paramref name="reference"/>)
    /// recomputed on the same draw: is the lead the selection rule saw larger than resampling the users moves it?
    /// </summary>
    public static ConfidenceInterval GainDifference(Lists a, Lists b, Lists reference, BootstrapInterval bootstrap, int items, int k)
    {
        var buffer = new long[items];
        return bootstrap.Of(draw =>
        {
            double n0 = Mean(reference.Ndcg, draw), g0 = Gini(reference.Items, draw, items, k, buffer);
            double Gain(Lists l) =>
                (g0 == 0 ? 0 : Math.Abs(Gini(l.Items, draw, items, k, buffer) - g0) / g0) - (n0 == 0 ? 0 : Math.Abs(Mean(l.Ndcg, draw) - n0) / n0);
            return Gain(a) - Gain(b);
        });
    }

    public static MethodFront Front(string method, IEnumerable<GridPointResult> points, Metrics.MetricSet sasRecValidation, double maxNdcgDrop)
    {
        var front = ParetoFront.Of(points.Select(p => new FrontPoint(p.Validation.Gini, p.Validation.Ndcg)));
        double g0 = sasRecValidation.Gini, n0 = sasRecValidation.Ndcg;
        double area = g0 <= 0 || n0 <= 0 ? 0
            : ParetoFront.DominatedArea(front, new FrontPoint(g0, (1 - maxNdcgDrop) * n0)) / (g0 * n0) * 100 * 100;
        return new MethodFront(method, front, area);
    }

    /// <summary>
    /// The verdict: who leads the selection score on validation and whether that lead is outside the noise, then
    /// PopSteer against every baseline on test, difference by difference.
    /// </summary>
    public static IReadOnlyList<string> Verdict(IReadOnlyList<MethodOutcome> outcomes, IReadOnlyList<PairedComparison> pairs,
        ConfidenceInterval? validationLead, string? leader, string? runnerUp, IReadOnlyList<MethodFront> fronts)
    {
        var lines = new List<string>();
        var inv = CultureInfo.InvariantCulture;
        if (leader is not null && runnerUp is not null && validationLead is not null)
        {
            var l = outcomes.First(o => o.Method == leader);
            var r = outcomes.First(o => o.Method == runnerUp);
            lines.Add(string.Create(inv,
                $"Selection score on validation: {leader} leads ({l.ValidationGain:+0.0000;-0.0000;0.0000}) over {runnerUp} ({r.ValidationGain:+0.0000;-0.0000;0.0000}) by {validationLead.Estimate:+0.0000;-0.0000;0.0000}, 95% CI [{validationLead.Low:+0.0000;-0.0000;0.0000}, {validationLead.High:+0.0000;-0.0000;0.0000}]: {(validationLead.Excludes(0) ? "outside the noise." : "INSIDE the noise (resampling the users can reverse it).")}"));
        }
        if (fronts.Count > 0)
        {
            var best = fronts.OrderByDescending(f => f.Area).ToList();
            lines.Add("Validation front area (%², against SASRec's Gini and the NDCG bound): "
                + string.Join(", ", best.Select(f => string.Create(inv, $"{f.Method} {f.Area:0.00}"))) + ".");
        }
        var popSteerLines = pairs.Where(p => p.Method == MethodComparison.PopSteer && p.Against == MethodComparison.SasRec)
            .Concat(pairs.Where(p => p.Against == MethodComparison.PopSteer && IsBaseline(p.Method)));
        foreach (var p in popSteerLines)
        {
            // Every line speaks of PopSteer minus the other method; the stored pair may be the other way round.
            bool flip = p.Against == MethodComparison.PopSteer;
            string other = flip ? p.Method : p.Against;
            double sign = flip ? -1 : 1;
            double dg = sign * p.GiniDifference.Estimate, dn = sign * p.NdcgDifference.Estimate;
            double gLow = flip ? -p.GiniDifference.High : p.GiniDifference.Low, gHigh = flip ? -p.GiniDifference.Low : p.GiniDifference.High;
            double nLow = flip ? -p.NdcgDifference.High : p.NdcgDifference.Low, nHigh = flip ? -p.NdcgDifference.Low : p.NdcgDifference.High;
            string gini = p.GiniSignificant
                ? (dg < 0 ? "lower Gini@10 (less concentrated), outside the noise" : "HIGHER Gini@10, outside the noise")
                : "Gini@10 inside the noise";
            string ndcg = p.NdcgSignificant
                ? (dn > 0 ? "higher NDCG@10, outside the noise" : "LOWER NDCG@10, outside the noise")
                : "NDCG@10 inside the noise";
            lines.Add(string.Create(inv,
                $"PopSteer vs {other} on test: Gini {dg:+0.0000;-0.0000;0.0000} [{gLow:+0.0000;-0.0000;0.0000}, {gHigh:+0.0000;-0.0000;0.0000}], {gini}; NDCG {dn:+0.0000;-0.0000;0.0000} [{nLow:+0.0000;-0.0000;0.0000}, {nHigh:+0.0000;-0.0000;0.0000}] (Wilcoxon p {p.Wilcoxon.PValue:0.000}, t-test p {p.TTest.PValue:0.000}), {ndcg}."));
        }
        return lines;
    }

    private static bool IsBaseline(string method) =>
        method is MethodComparison.Ipr or MethodComparison.Fair or MethodComparison.Pct or MethodComparison.Pmmf;

    private static double Mean(double[] values, IReadOnlyList<int> draw)
    {
        double sum = 0;
        foreach (int u in draw) sum += values[u];
        return draw.Count == 0 ? 0 : sum / draw.Count;
    }

    /// <summary>One method's lists on one split and their per-user NDCG.</summary>
    public sealed record Lists(int[][] Items, double[] Ndcg);
}
