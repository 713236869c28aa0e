using System.CommandLine;
using System.Globalization;
using PopSteer.Core.Evaluation;
using PopSteer.Core.Metrics;
using PopSteer.Core.Scoring;
using PopSteer.Core.Storage;

namespace PopSteer.Cli.Commands;

/// <summary>
/// `popsteer tune`: the authors' selection rule on the validation split (max (Gini0 - Gini)/Gini0 - |dNDCG|/NDCG0, a signed Gini term (see SelectionScore), with the
/// NDCG drop bounded, SASRec as the reference), over the same alpha x N grid `compare` uses. The choice is stored in
/// the manifest as the model's steering default.
/// </summary>
internal static class TuneCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var data = CommonOptions.Data();
        var format = CommonOptions.Format();
        var kCore = CommonOptions.KCore();
        var maxDrop = new Option<double>("--max-ndcg-drop") { Description = "Largest relative validation NDCG@10 drop allowed.", DefaultValueFactory = _ => 0.05 };
        var alphas = new Option<string?>("--alphas") { Description = "Alpha grid (default 0.25, 0.5, 0.75, then 1.0..4.0 step 0.5)." };
        var neurons = new Option<string?>("--neurons") { Description = "N grid (default h/8..h step h/8)." };
        var device = CommonOptions.Device();
        var sigma = CommonOptions.Sigma();

        var command = new Command("tune", "Pick alpha and N on the validation split with the authors' rule and store them in the model.")
        {
            model, data, format, kCore, maxDrop, alphas, neurons, device, sigma,
        };
        command.SetAction(r =>
        {
            var directory = r.GetRequiredValue(model);
            double bound = r.GetValue(maxDrop);
            if (double.IsNaN(bound) || bound < 0) throw new ArgumentException("--max-ndcg-drop must be >= 0.");
            var grid = new MethodComparisonOptions();
            var alphaList = CommonOptions.ParseList<double>(r.GetValue(alphas), "--alphas");
            if (alphaList.Count == 0) alphaList = grid.PopSteerAlphas;

            Core.Steering.SteeringPlan chosen;
            MetricSet reference;
            MetricSet best;
            using (var m = PopSteerModel.Load(directory, r.GetValue(device) ?? "cpu"))
            {
                var neuronList = CommonOptions.ParseList<int>(r.GetValue(neurons), "--neurons");
                if (neuronList.Count == 0) neuronList = grid.NeuronGrid(m.SaeWidth);
                var (_, cases) = EvaluationSplit.Load(m, r.GetRequiredValue(data), r.GetValue(format), r.GetValue(kCore), "valid");
                using var prepared = Evaluator.Prepare(m, cases);
                reference = Evaluator.Evaluate(prepared, ScoringMethod.SasRec).Metrics;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"SASRec (valid, {cases.Count:N0} users): ndcg@10 {reference.Ndcg:0.0000} gini@10 {reference.Gini:0.0000}"));
                var points = new List<(Core.Steering.SteeringPlan, MetricSet)>();
                foreach (int n in neuronList)
                    foreach (double a in alphaList)
                    {
                        var plan = m.PlanFor(a, n, r.GetValue(sigma));
                        var metrics = Evaluator.Evaluate(prepared, ScoringMethod.PopSteer, plan).Metrics;
                        points.Add((plan, metrics));
                        double drop = SelectionScore.NdcgDrop(reference, metrics);
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"  N={n,5} alpha={a,4:0.0#}: ndcg@10 {metrics.Ndcg:0.0000} ({-drop:+0.0%;-0.0%;0.0%}) gini@10 {metrics.Gini:0.0000} gain {SelectionScore.Gain(reference, metrics):+0.0000;-0.0000;0.0000}{(drop > bound ? "  (drop too large)" : "")}"));
                    }
                var pick = SelectionScore.Pick(reference, points.Select(p => (p.Item1, p.Item2)), bound);
                if (pick is null)
                {
                    Console.Error.WriteLine($"no grid point keeps the NDCG drop within {bound:P0}; nothing stored. Try smaller alphas (--alphas).");
                    return 1;
                }
                chosen = pick;
                best = points.First(p => ReferenceEquals(p.Item1, pick)).Item2;
            }
            var manifest = ModelDirectory.Verify(directory);
            manifest.Steering = new SteeringDefaults(chosen.Alpha, chosen.Neurons);
            string version = ModelDirectory.WriteManifest(directory, manifest);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"chosen alpha={chosen.Alpha:0.##} N={chosen.Neurons}: gain {SelectionScore.Gain(reference, best):+0.0000;-0.0000;0.0000}, ndcg@10 {best.Ndcg:0.0000} ({-SelectionScore.NdcgDrop(reference, best):+0.0%;-0.0%;0.0%}), gini@10 {reference.Gini:0.0000} -> {best.Gini:0.0000}, tail coverage {reference.TailCoverage:0.0000} -> {best.TailCoverage:0.0000}"));
            Console.WriteLine($"stored in {Path.Combine(directory, ModelManifest.FileName)} (model version now {version})");
            // The authors' rule takes the grid's best even when it is worse than not steering (Gini up, or NDCG lost
            // for less Gini): say so, so that nobody serves it believing it was an improvement.
            if (!(SelectionScore.Gain(reference, best) > 0))
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"warning: no grid point beats SASRec by the selection rule (the best, stored, has gain {SelectionScore.Gain(reference, best):+0.0000;-0.0000;0.0000}, gini@10 {reference.Gini:0.0000} -> {best.Gini:0.0000}): steering does not pay on this model and split."));
            return 0;
        });
        return command;
    }
}
