using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using PopSteer.Cli.Plotting;
using PopSteer.Core.Evaluation;
using PopSteer.Core.Metrics;
using PopSteer.Core.Statistics;
using Spectre.Console;

namespace PopSteer.Cli.Reporting;

/// <summary>
/// Turns a <see cref="MethodComparisonResult"/> into the shared outputs: the `evaluate`-schema report of the test
/// split, the significance of every difference (paired tests, bootstrap intervals), the validation fronts, the
/// plot's series and the verdict. Console, Markdown, CSV and JSON all print the same numbers from here.
/// </summary>
public static class ComparisonReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static EvaluationReport ToEvaluationReport(MethodComparisonResult result) =>
        new("test", result.TestUsers, result.Methods.Select(ToRow).ToList());

    private static MethodResult ToRow(MethodOutcome m)
    {
        string? note = m.Admissible ? null
            : string.Create(Inv, $"no grid point kept the validation NDCG drop within the bound; shown at its smallest drop (gain {m.ValidationGain:+0.0000;-0.0000;0.0000}).");
        return m.Method == MethodComparison.PopSteer
            ? new MethodResult(m.Method, m.Test, m.Alpha, m.Neurons, null, m.MsPer1000Users, note)
            : new MethodResult(m.Method, m.Test, null, null, m.Parameters, m.MsPer1000Users, note);
    }

    /// <summary>
    /// Validation points for the two-panel plot: SASRec and SAE as single points, PopSteer's alpha curve at the chosen
    /// N (starting from alpha = 0, which is the unsteered SAE exactly) and its other alpha x N points, every
    /// baseline's whole tuning grid; each tuned method with its validation Pareto front.
    /// </summary>
    public static IReadOnlyList<TradeoffSeries> PlotSeries(MethodComparisonResult result)
    {
        static Plotting.TradeoffPoint Point(string label, MetricSet m) => new(label, m.Ndcg, m.Gini, m.TailCoverage);
        IReadOnlyList<Plotting.TradeoffPoint>? Front(string method)
        {
            var front = result.Fronts.FirstOrDefault(f => f.Method == method);
            return front?.Points.Select(p => new Plotting.TradeoffPoint("", p.Ndcg, p.Gini, double.NaN)).ToList();
        }
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
                .Select(p => Point(string.Create(Inv, $"a={p.Parameters["alpha"]:R}"), p.Validation));
            series.Add(new TradeoffSeries($"PopSteer (N={n})", [Point("a=0", sae.Validation), .. curve], true, Front(MethodComparison.PopSteer)));
            var others = result.Grid.Where(p => p.Method == MethodComparison.PopSteer && (int)p.Parameters["neurons"] != n)
                .Select(p => Point(p.Label, p.Validation)).ToList();
            if (others.Count > 0) series.Add(new TradeoffSeries("PopSteer, other N", others, false));
        }
        foreach (var method in new[] { MethodComparison.Ipr, MethodComparison.Fair, MethodComparison.Pct, MethodComparison.Pmmf })
        {
            var points = result.Grid.Where(p => p.Method == method).Select(p => Point(p.Label, p.Validation)).ToList();
            if (points.Count > 0) series.Add(new TradeoffSeries(method, points, false, Front(method)));
        }
        return series;
    }

    /// <summary>
    /// The selection score per method (validation, where the choice is made, and test), with the time each costs,
    /// best validation gain first; then the verdict lines of <see cref="MethodComparisonResult.Verdict"/>.
    /// </summary>
    public static string Verdict(MethodComparisonResult result, double maxNdcgDrop)
    {
        var sasRec = result[MethodComparison.SasRec];
        var ranked = result.Methods.Where(m => !m.IsReference && m.Method is not (MethodComparison.SasRec or MethodComparison.Sae))
            .OrderByDescending(m => m.Admissible).ThenByDescending(m => m.ValidationGain).ToList();
        var sb = new StringBuilder();
        sb.Append(Inv, $"Selection score ((Gini0 - Gini)/Gini0 - |dNDCG|/NDCG0 against SASRec, NDCG drop <= {maxNdcgDrop:P0}), chosen on validation:\n");
        foreach (var m in ranked)
        {
            double testGain = SelectionScore.Gain(sasRec.Test, m.Test);
            double testDrop = SelectionScore.NdcgDrop(sasRec.Test, m.Test);
            sb.Append(Inv,
                $"  {m.Method,-9} validation gain {m.ValidationGain:+0.0000;-0.0000;0.0000}  test gain {testGain:+0.0000;-0.0000;0.0000} (NDCG drop {testDrop:P1}, Gini {sasRec.Test.Gini:0.000} -> {m.Test.Gini:0.000})  {m.MsPer1000Users,8:0.0} ms / 1,000 users{(m.Admissible ? "" : "  [no admissible setting]")}\n");
        }
        foreach (var line in result.Verdict) sb.Append(line).Append('\n');
        return sb.ToString();
    }

    private static string Diff(ConfidenceInterval ci) =>
        string.Create(Inv, $"{ci.Estimate:+0.0000;-0.0000;0.0000} [{ci.Low:+0.0000;-0.0000;0.0000}, {ci.High:+0.0000;-0.0000;0.0000}]");

    private static string P(double p) => p < 0.0001 ? "<0.0001" : p.ToString("0.0000", Inv);

    private static string Flag(bool significant) => significant ? "yes" : "no (inside the noise)";

    /// <summary>The significance and front tables, then the verdict, as Markdown (appended to the test table).</summary>
    public static string ToMarkdown(MethodComparisonResult result, EvaluationReport report, double maxNdcgDrop)
    {
        var sb = new StringBuilder(report.ToMarkdown());
        sb.Append(Inv, $"\n### Significance on test ({result.TestUsers} users; method minus reference; paired bootstrap, {result.BootstrapResamples} resamples, seed {result.Seed}, 95% CIs)\n\n");
        sb.Append("| method | vs | ΔNDCG@10 [95% CI] | t-test p | Wilcoxon p | NDCG differs | ΔGini@10 [95% CI] | Gini differs |\n|---|---|---:|---:|---:|---|---:|---|\n");
        foreach (var p in result.Pairs)
            sb.Append(Inv, $"| {Md(p.Method)} | {Md(p.Against)} | {Diff(p.NdcgDifference)} | {P(p.TTest.PValue)} | {P(p.Wilcoxon.PValue)} | {Flag(p.NdcgSignificant)} | {Diff(p.GiniDifference)} | {Flag(p.GiniSignificant)} |\n");
        sb.Append("\n\"NDCG differs\": both paired tests p < 0.05 and the CI excludes 0. \"Gini differs\": the CI excludes 0.\n");
        sb.Append(Inv, $"\n### Validation Pareto fronts of (Gini@10, NDCG@10)\n\nArea in %²: relative Gini reduction below SASRec's validation Gini (%) x NDCG above the bound (1 - {maxNdcgDrop:0.##}) x SASRec's validation NDCG (% of SASRec's); the reference point is (SASRec's Gini, the bound).\n\n");
        sb.Append("| method | front area (%²) | front points (Gini@10, NDCG@10) |\n|---|---:|---|\n");
        foreach (var f in result.Fronts.OrderByDescending(f => f.Area))
            sb.Append(Inv, $"| {Md(f.Method)} | {f.Area:0.00} | {string.Join(", ", f.Points.Select(p => string.Create(Inv, $"({p.Gini:0.0000}, {p.Ndcg:0.0000})")))} |\n");
        sb.Append("\n### Verdict\n\n```\n").Append(Verdict(result, maxNdcgDrop)).Append("```\n");
        return sb.ToString();
    }

    /// <summary>The `evaluate`-schema JSON of the test table with "significance", "fronts", "validation_lead" and "verdict" added.</summary>
    public static string ToJson(MethodComparisonResult result, EvaluationReport report, double maxNdcgDrop)
    {
        var root = JsonNode.Parse(report.ToJson())!.AsObject();
        JsonObject Ci(ConfidenceInterval ci) => new()
        {
            ["estimate"] = Num(ci.Estimate), ["low"] = Num(ci.Low), ["high"] = Num(ci.High), ["level"] = ci.Level, ["resamples"] = ci.Resamples,
        };
        root["bootstrap"] = new JsonObject { ["resamples"] = result.BootstrapResamples, ["seed"] = result.Seed, ["level"] = 0.95 };
        var pairs = new JsonArray();
        foreach (var p in result.Pairs)
            pairs.Add(new JsonObject
            {
                ["method"] = p.Method, ["against"] = p.Against, ["users"] = p.TTest.Pairs,
                ["ndcg_difference"] = Ci(p.NdcgDifference), ["gini_difference"] = Ci(p.GiniDifference),
                ["t_test"] = new JsonObject { ["t"] = Num(p.TTest.Statistic), ["df"] = p.TTest.Pairs - 1, ["p"] = Num(p.TTest.PValue) },
                ["wilcoxon"] = new JsonObject { ["w_plus"] = Num(p.Wilcoxon.Statistic), ["p"] = Num(p.Wilcoxon.PValue) },
                ["ndcg_significant"] = p.NdcgSignificant, ["gini_significant"] = p.GiniSignificant,
            });
        root["significance"] = pairs;
        var fronts = new JsonArray();
        foreach (var f in result.Fronts)
        {
            var points = new JsonArray();
            foreach (var pt in f.Points) points.Add(new JsonObject { ["gini@10"] = Num(pt.Gini), ["ndcg@10"] = Num(pt.Ndcg) });
            fronts.Add(new JsonObject { ["method"] = f.Method, ["area_pct2"] = Num(f.Area), ["points"] = points });
        }
        root["fronts"] = new JsonObject
        {
            ["split"] = "valid", ["max_ndcg_drop"] = maxNdcgDrop,
            ["reference_point"] = "SASRec's validation Gini@10, (1 - max_ndcg_drop) x SASRec's validation NDCG@10; area in (relative Gini reduction %) x (relative NDCG above the bound %)",
            ["methods"] = fronts,
        };
        if (result.ValidationLead is { } lead) root["validation_lead"] = Ci(lead);
        root["verdict"] = new JsonArray(result.Verdict.Select(l => (JsonNode?)JsonValue.Create(l)).ToArray());
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    /// <summary>The `evaluate`-schema CSV with, per row, the validation gain, the front area, and the tests against SASRec and PopSteer.</summary>
    public static string ToCsv(MethodComparisonResult result, EvaluationReport report)
    {
        var lines = report.ToCsv().TrimEnd('\n').Split('\n');
        var sb = new StringBuilder(lines[0]).Append(",reference,validation_gain,front_area_pct2");
        foreach (var against in new[] { "sasrec", "popsteer" })
            foreach (var col in new[] { "ndcg_diff", "ndcg_diff_low", "ndcg_diff_high", "t_test_p", "wilcoxon_p", "gini_diff", "gini_diff_low", "gini_diff_high" })
                sb.Append(Inv, $",{col}_vs_{against}");
        sb.Append('\n');
        for (int i = 0; i < result.Methods.Count; i++)
        {
            var m = result.Methods[i];
            sb.Append(lines[i + 1]).Append(',').Append(m.IsReference ? "true" : "false").Append(',').Append(R(m.ValidationGain)).Append(',')
              .Append(result.Fronts.FirstOrDefault(f => f.Method == m.Method) is { } f ? R(f.Area) : "");
            foreach (var against in new[] { MethodComparison.SasRec, MethodComparison.PopSteer })
            {
                var p = result.Pair(m.Method, against);
                double?[] values = p is null ? new double?[8]
                    : [p.NdcgDifference.Estimate, p.NdcgDifference.Low, p.NdcgDifference.High, p.TTest.PValue, p.Wilcoxon.PValue,
                       p.GiniDifference.Estimate, p.GiniDifference.Low, p.GiniDifference.High];
                foreach (var v in values) sb.Append(',').Append(v is { } x ? R(x) : "");
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>The console view: the test tables, the significance table, then the verdict.</summary>
    public static void WriteConsole(MethodComparisonResult result, EvaluationReport report, double maxNdcgDrop, IAnsiConsole? console = null)
    {
        var target = console ?? AnsiConsole.Console;
        report.WriteConsole(target);
        var table = new Table().Border(TableBorder.Rounded)
            .Title(string.Create(Inv, $"[bold]test[/] significance, method minus reference (95% CI, {result.BootstrapResamples} resamples)"));
        foreach (var column in new[] { "method", "vs", "dNDCG@10 [CI]", "t p", "Wilcoxon p", "dGini@10 [CI]" }) table.AddColumn(Markup.Escape(column));
        foreach (var p in result.Pairs)
            table.AddRow(Markup.Escape(p.Method), Markup.Escape(p.Against),
                (p.NdcgSignificant ? "" : "[grey]") + Markup.Escape(Diff(p.NdcgDifference)) + (p.NdcgSignificant ? "" : "[/]"),
                P(p.TTest.PValue), P(p.Wilcoxon.PValue),
                (p.GiniSignificant ? "" : "[grey]") + Markup.Escape(Diff(p.GiniDifference)) + (p.GiniSignificant ? "" : "[/]"));
        target.Write(table);
        target.WriteLine("(grey: inside the noise)");
        target.Write(new Text(Verdict(result, maxNdcgDrop)));
    }

    private static JsonNode? Num(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;

    private static string R(double value) => double.IsFinite(value) ? value.ToString("R", Inv) : "";

    private static string Md(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("*", "\\*", StringComparison.Ordinal);
}
