using System.Globalization;
using System.Text;
using PopSteer.Cli.Plotting;
using PopSteer.Core.Evaluation;
using PopSteer.Core.Metrics;

namespace PopSteer.Cli.Reporting;

/// <summary>
/// Turns a <see cref="MethodComparisonResult"/> into the shared outputs: the `evaluate`-schema report of the test
/// split, the plot's series (validation grid points), and a short verdict on the selection score.
/// </summary>
public static class ComparisonReport
{
    public static EvaluationReport ToEvaluationReport(MethodComparisonResult result) =>
        new("test", result.TestUsers, result.Methods.Select(ToRow).ToList());

    private static MethodResult ToRow(MethodOutcome m)
    {
        string? note = m.Admissible ? null
            : string.Create(CultureInfo.InvariantCulture, $"no grid point kept the validation NDCG drop within the bound; shown at its smallest drop (gain {m.ValidationGain:+0.0000;-0.0000}).");
        return m.Method == MethodComparison.PopSteer
            ? new MethodResult(m.Method, m.Test, m.Alpha, m.Neurons, null, m.MsPer1000Users, note)
            : new MethodResult(m.Method, m.Test, null, null, m.Parameters, m.MsPer1000Users, note);
    }

    /// <summary>
    /// Validation points for the two-panel plot: SASRec and SAE as single points, PopSteer's alpha curve at the chosen
    /// N (starting from alpha = 0, which is the unsteered SAE exactly) and its other alpha x N points, every
    /// baseline's whole tuning grid.
    /// </summary>
    public static IReadOnlyList<TradeoffSeries> PlotSeries(MethodComparisonResult result)
    {
        static TradeoffPoint Point(string label, MetricSet m) => new(label, m.Ndcg, m.Gini, m.TailCoverage);
        var series = new List<TradeoffSeries>();
        var sasRec = result.Grid.First(p => p.Method == MethodComparison.SasRec);
        var sae = result.Grid.First(p => p.Method == MethodComparison.Sae);
        series.Add(new TradeoffSeries(MethodComparison.SasRec, [Point("SASRec", sasRec.Validation)], false));
        series.Add(new TradeoffSeries(MethodComparison.Sae, [Point("SAE", sae.Validation)], false));

        var popSteer = result[MethodComparison.PopSteer];
        if (popSteer.Neurons is { } n)
        {
            var curve = result.Grid.Where(p => p.Method == MethodComparison.PopSteer && (int)p.Parameters["neurons"] == n)
                .OrderBy(p => p.Parameters["alpha"])
                .Select(p => Point(string.Create(CultureInfo.InvariantCulture, $"a={p.Parameters["alpha"]:R}"), p.Validation));
            series.Add(new TradeoffSeries($"PopSteer (N={n})", [Point("a=0", sae.Validation), .. curve], true));
            var others = result.Grid.Where(p => p.Method == MethodComparison.PopSteer && (int)p.Parameters["neurons"] != n)
                .Select(p => Point(p.Label, p.Validation)).ToList();
            if (others.Count > 0) series.Add(new TradeoffSeries("PopSteer, other N", others, false));
        }
        foreach (var method in new[] { MethodComparison.Ipr, MethodComparison.Fair, MethodComparison.Pct, MethodComparison.Pmmf })
        {
            var points = result.Grid.Where(p => p.Method == method).Select(p => Point(p.Label, p.Validation)).ToList();
            if (points.Count > 0) series.Add(new TradeoffSeries(method, points, false));
        }
        return series;
    }

    /// <summary>
    /// Which method wins on the selection score (validation, where the choice is made) and how they fare on test,
    /// with the time each costs; one line per method, best validation gain first.
    /// </summary>
    public static string Verdict(MethodComparisonResult result, double maxNdcgDrop)
    {
        var sasRec = result[MethodComparison.SasRec];
        var ranked = result.Methods.Where(m => m.Method is not (MethodComparison.SasRec or MethodComparison.Sae))
            .OrderByDescending(m => m.Admissible).ThenByDescending(m => m.ValidationGain).ToList();
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture,
            $"Selection score (|dGini|/Gini0 - |dNDCG|/NDCG0 against SASRec, NDCG drop <= {maxNdcgDrop:P0}), chosen on validation:\n");
        foreach (var m in ranked)
        {
            double testGain = SelectionScore.Gain(sasRec.Test, m.Test);
            double testDrop = SelectionScore.NdcgDrop(sasRec.Test, m.Test);
            sb.Append(CultureInfo.InvariantCulture,
                $"  {m.Method,-9} validation gain {m.ValidationGain:+0.0000;-0.0000}  test gain {testGain:+0.0000;-0.0000} (NDCG drop {testDrop:P1}, Gini {sasRec.Test.Gini:0.000} -> {m.Test.Gini:0.000})  {m.MsPer1000Users,8:0.0} ms / 1,000 users{(m.Admissible ? "" : "  [no admissible setting]")}\n");
        }
        if (ranked.Count > 1 && ranked[0].Admissible)
        {
            var winner = ranked[0];
            var runnerUp = ranked[1];
            sb.Append(CultureInfo.InvariantCulture,
                $"Winner on validation: {winner.Method}, by {winner.ValidationGain - runnerUp.ValidationGain:0.0000} over {runnerUp.Method}; ");
            sb.Append(CultureInfo.InvariantCulture,
                $"it costs {winner.MsPer1000Users:0.0} ms per 1,000 users against SASRec's {sasRec.MsPer1000Users:0.0}.\n");
        }
        return sb.ToString();
    }
}
