using System.CommandLine;
using System.Globalization;
using PopSteer.Cli.Plotting;
using PopSteer.Cli.Reporting;
using PopSteer.Core.Evaluation;
using PopSteer.Core.Metrics;
using PopSteer.Core.Scoring;

namespace PopSteer.Cli.Commands;

/// <summary>`popsteer sweep`: PopSteer over a grid of alpha (and N), drawn as fairness-accuracy trade-off curves.</summary>
internal static class SweepCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var data = CommonOptions.Data();
        var format = CommonOptions.Format();
        var kCore = CommonOptions.KCore();
        var split = new Option<string>("--split") { Description = "valid or test.", DefaultValueFactory = _ => "valid" };
        var alphas = new Option<string>("--alphas") { Description = "Comma-separated alphas, e.g. 0,0.5,1,1.5,2,3,4.", Required = true };
        var neurons = new Option<string?>("--neurons") { Description = "Comma-separated N values (default: all neurons)." };
        var plot = new Option<string>("--plot") { Description = "PNG file for the trade-off curves.", Required = true };
        var json = new Option<string?>("--json") { Description = "Also write every point as JSON (evaluate's schema)." };
        var device = CommonOptions.Device();
        var sigma = CommonOptions.Sigma();

        var command = new Command("sweep", "Sweep alpha (and N) and draw NDCG@10 against Gini@10 and tail coverage.")
        {
            model, data, format, kCore, split, alphas, neurons, plot, json, device, sigma,
        };
        command.SetAction(r =>
        {
            var alphaList = CommonOptions.ParseList<double>(r.GetRequiredValue(alphas), "--alphas");
            if (alphaList.Count == 0) throw new ArgumentException("--alphas: give at least one value.");
            using var m = PopSteerModel.Load(r.GetRequiredValue(model), r.GetValue(device) ?? "cpu");
            var neuronList = CommonOptions.ParseList<int>(r.GetValue(neurons), "--neurons");
            if (neuronList.Count == 0) neuronList = [m.SaeWidth];
            var splitName = r.GetValue(split) ?? "valid";
            var (_, cases) = EvaluationSplit.Load(m, r.GetRequiredValue(data), r.GetValue(format), r.GetValue(kCore), splitName);

            using var prepared = Evaluator.Prepare(m, cases);
            var sasRec = Evaluator.Evaluate(prepared, ScoringMethod.SasRec).Metrics;
            var sae = Evaluator.Evaluate(prepared, ScoringMethod.Sae).Metrics;
            var rows = new List<MethodResult> { new("SASRec", sasRec), new("SAE", sae) };
            var series = new List<TradeoffSeries>
            {
                new("SASRec", [Point("SASRec", sasRec)], IsCurve: false),
                new("SAE (unsteered)", [Point("SAE", sae)], IsCurve: false),
            };
            int total = neuronList.Count * alphaList.Count, done = 0;
            foreach (int n in neuronList)
            {
                var points = new List<TradeoffPoint>();
                foreach (double a in alphaList)
                {
                    var metrics = Evaluator.Evaluate(prepared, ScoringMethod.PopSteer, m.PlanFor(a, n, r.GetValue(sigma))).Metrics;
                    rows.Add(new MethodResult("PopSteer", metrics, a, n));
                    points.Add(Point(string.Create(CultureInfo.InvariantCulture, $"α={a:0.##}"), metrics));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"[{++done}/{total}] N={n} alpha={a:0.###}: ndcg@10 {metrics.Ndcg:0.0000} gini@10 {metrics.Gini:0.0000} tail cov {metrics.TailCoverage:0.0000} gain {SelectionScore.Gain(sasRec, metrics):+0.0000;-0.0000;0.0000}"));
                }
                series.Add(new TradeoffSeries($"PopSteer N={n}", points, IsCurve: true));
            }
            var report = new EvaluationReport(splitName, cases.Count, rows);
            report.WriteConsole();
            var plotPath = r.GetRequiredValue(plot);
            TradeoffPlot.Save(plotPath, series, $"PopSteer alpha sweep ({splitName}, {cases.Count:N0} users)");
            Console.WriteLine($"wrote {plotPath}");
            if (r.GetValue(json) is { } path) { report.WriteJson(path); Console.WriteLine($"wrote {path}"); }
            return 0;
        });
        return command;
    }

    private static TradeoffPoint Point(string label, MetricSet m) => new(label, m.Ndcg, m.Gini, m.TailCoverage);
}
