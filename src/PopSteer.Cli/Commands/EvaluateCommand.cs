using System.CommandLine;
using PopSteer.Cli.Reporting;
using PopSteer.Core.Evaluation;
using PopSteer.Core.Scoring;

namespace PopSteer.Cli.Commands;

/// <summary>`popsteer evaluate`: full-ranking metrics of the references (MostPop, Last item), SASRec, the unsteered SAE and PopSteer at one alpha/N.</summary>
internal static class EvaluateCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var data = CommonOptions.Data();
        var format = CommonOptions.Format();
        var kCore = CommonOptions.KCore();
        var split = CommonOptions.Split();
        var alpha = new Option<double?>("--alpha") { Description = "Steering strength (default: the model's tuned value, else 1.5)." };
        var neurons = new Option<int?>("--neurons") { Description = "Neurons steered, N (default: the tuned value, else all)." };
        var mask = new Option<bool>("--mask-history") { Description = "Do not rank items the user already has (off in the paper's protocol)." };
        var json = new Option<string?>("--json") { Description = "Also write the report as JSON to this file." };
        var device = CommonOptions.Device();
        var sigma = CommonOptions.Sigma();

        var command = new Command("evaluate", "Evaluate MostPop, Last item, SASRec, the unsteered SAE and PopSteer on a split (full ranking, @10).")
        {
            model, data, format, kCore, split, alpha, neurons, mask, json, device, sigma,
        };
        command.SetAction(r =>
        {
            using var m = PopSteerModel.Load(r.GetRequiredValue(model), r.GetValue(device) ?? "cpu");
            var (_, cases) = EvaluationSplit.Load(m, r.GetRequiredValue(data), r.GetValue(format), r.GetValue(kCore), r.GetValue(split) ?? "test");
            double a = r.GetValue(alpha) ?? m.Manifest.Steering?.Alpha ?? 1.5;
            int n = r.GetValue(neurons) ?? m.Manifest.Steering?.Neurons ?? m.SaeWidth;
            var plan = m.PlanFor(a, n, r.GetValue(sigma));
            var options = new EvaluationOptions { MaskHistory = r.GetValue(mask) };

            using var prepared = Evaluator.Prepare(m, cases, options);
            var rows = new List<MethodResult>
            {
                // What needs no training: a trained SASRec must beat both (on repeat-heavy data Last item is strong).
                Reference(ReferenceRecommender.MostPop, m, cases, options),
                Reference(ReferenceRecommender.LastItem, m, cases, options),
                new("SASRec", Evaluator.Evaluate(prepared, ScoringMethod.SasRec, null, options).Metrics),
                new("SAE", Evaluator.Evaluate(prepared, ScoringMethod.Sae, null, options).Metrics),
                new("PopSteer", Evaluator.Evaluate(prepared, ScoringMethod.PopSteer, plan, options).Metrics, a, n),
            };
            var report = new EvaluationReport(r.GetValue(split) ?? "test", cases.Count, rows);
            report.WriteConsole();
            if (m.Manifest.Metrics.TryGetValue("sae.valid.fvu", out var fvu))
                Console.WriteLine($"SAE validation FVU {fvu:0.0000}; model {m.Version}");
            if (r.GetValue(json) is { } path) { report.WriteJson(path); Console.WriteLine($"wrote {path}"); }
            return 0;
        });
        return command;
    }

    private static MethodResult Reference(ReferenceRecommender method, PopSteerModel model, IReadOnlyList<Core.Data.EvaluationCase> cases, EvaluationOptions options) =>
        new(ReferenceRecommenders.DisplayName(method), ReferenceRecommenders.Evaluate(method, model.Groups, cases, options.K, options.MaskHistory));
}
