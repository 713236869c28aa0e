using System.CommandLine;
using System.Globalization;
using PopSteer.Cli.Plotting;
using PopSteer.Core.Data;
using PopSteer.Core.Storage;
using PopSteer.Core.Training;

namespace PopSteer.Cli.Commands;

/// <summary>
/// `popsteer fit` (SASRec, then the SAE, then the neuron analysis) and its stages run alone: `train`,
/// `train-sae`, `analyze`. Each stage writes the model directory, so a stopped or failed run keeps what it finished.
/// Ctrl-C stops training and keeps the best checkpoint so far.
/// </summary>
internal static class FitCommand
{
    private enum Stage { All, Train, TrainSae, Analyze }

    public static Command Create() => Build("fit", "Train SASRec, train the SAE and analyse neurons; writes a model directory.", Stage.All);
    public static Command CreateTrain() => Build("train", "Train SASRec only (the first stage of fit).", Stage.Train);
    public static Command CreateTrainSae() => Build("train-sae", "Train the TopK SAE on the directory's frozen SASRec.", Stage.TrainSae);
    public static Command CreateAnalyze() => Build("analyze", "Compute the neuron popularity scores (Cohen's d) for the directory's SAE.", Stage.Analyze);

    private static Command Build(string name, string description, Stage stage)
    {
        var data = CommonOptions.Data();
        var format = CommonOptions.Format();
        var kCore = CommonOptions.KCore();
        var output = new Option<string>("--out", "--model") { Description = "Model directory to write (created if missing).", Required = true };
        var seed = CommonOptions.Seed();
        var device = CommonOptions.Device();
        var epochs = new Option<int?>("--epochs") { Description = $"SASRec's budget in epochs; the cool-down ends at it unless patience starts it sooner (default {new SasRecTrainingOptions().MaxEpochs}; the best validation NDCG@10 is kept)." };
        var saeEpochs = new Option<int?>("--sae-epochs") { Description = "SAE epochs: the length of its warm-up + cosine schedule (default 20; the best validation FVU is kept)." };
        var patience = new Option<int?>("--patience") { Description = "Epochs without a better validation NDCG@10 after which SASRec's cool-down starts, or training stops with --cooldown 0 (default 10)." };
        var minEpochs = new Option<int?>("--min-epochs") { Description = $"Patience never ends SASRec's constant rate before this epoch (default {SasRecTrainingOptions.MinEpochsDefault})." };
        var cooldown = new Option<int?>("--cooldown") { Description = $"SASRec's cool-down in epochs: the rate falls along a half cosine to 0, then training ends (default {new SasRecTrainingOptions().CooldownEpochs}; 0 = a constant rate until patience or --epochs)." };
        var stride = new Option<int?>("--stride") { Description = "Training window stride (1 = exact RecBole contexts; default: see docs/core.md)." };
        var lr = new Option<double?>("--lr") { Description = "SASRec learning rate (default 3e-3; METHOD.md: 1e-3)." };
        var warmup = new Option<double?>("--warmup") { Description = $"SASRec linear learning-rate warm-up in epochs (default {new SasRecTrainingOptions().WarmupEpochs})." };
        var cosine = new Option<bool?>("--cosine") { Description = "Decay SASRec's learning rate along a cosine to 0 at --epochs from the warm-up's end, in place of the cool-down (default false). The fast schedule is --epochs 30 --min-epochs 30 --cosine (docs/core.md)." };
        var saeLr = new Option<double?>("--sae-lr") { Description = "SAE peak learning rate (default 3e-3; METHOD.md: 1e-3)." };
        var saeBatch = new Option<int?>("--sae-batch") { Description = "SAE batch size (default 64; METHOD.md: 2048)." };
        var saeWarmup = new Option<double?>("--sae-warmup") { Description = "SAE linear warm-up in epochs (default 1)." };
        var saeBiasFromMean = new Option<bool?>("--sae-bias-from-mean") { Description = "Start the SAE's decoder bias at the training vectors' mean (default true)." };
        var saeUnitNorm = new Option<bool?>("--sae-unit-norm") { Description = "Keep the SAE's decoder rows at unit norm (default true)." };
        var saeNormalise = new Option<bool?>("--sae-normalise") { Description = "Train the SAE on inputs scaled to unit variance per dimension, folded back at the end (default true)." };
        var curvePlot = new Option<string?>("--curve-plot") { Description = "Draw the directory's learning curves (SASRec, SAE) to this PNG." };
        var share = new Option<double>("--share") { Description = "Head/tail share of interactions (default 0.1, the 2026 variant's; the 2025 one used 0.2).", DefaultValueFactory = _ => new FitOptions().GroupShare };
        var prefixes = new Option<int>("--prefixes") { Description = "Real training prefixes sampled for the synthetic head/tail users.", DefaultValueFactory = _ => 100_000 };
        var synthetic = new Option<SyntheticUserMode>("--synthetic-users") { Description = "NearestByEmbedding (the 2026 variant, default) or Sample (2025).", DefaultValueFactory = _ => new FitOptions().SyntheticUsers };

        var command = new Command(name, description) { data, format, kCore, output, seed, device, epochs, saeEpochs, patience, minEpochs, cooldown, stride, lr, warmup, cosine, saeLr, saeBatch, saeWarmup, saeBiasFromMean, saeUnitNorm, saeNormalise, share, prefixes, synthetic, curvePlot };
        command.SetAction((r, ct) =>
        {
            var directory = r.GetRequiredValue(output);
            var defaults = new FitOptions();
            var options = defaults with
            {
                Seed = r.GetValue(seed),
                Device = r.GetValue(device) ?? "cpu",
                SasRec = defaults.SasRec with
                {
                    MaxEpochs = r.GetValue(epochs) ?? defaults.SasRec.MaxEpochs,
                    Patience = r.GetValue(patience) ?? defaults.SasRec.Patience,
                    MinEpochs = r.GetValue(minEpochs) ?? defaults.SasRec.MinEpochs,
                    WindowStride = r.GetValue(stride) ?? defaults.SasRec.WindowStride,
                    LearningRate = r.GetValue(lr) ?? defaults.SasRec.LearningRate,
                    WarmupEpochs = r.GetValue(warmup) ?? defaults.SasRec.WarmupEpochs,
                    CosineDecay = r.GetValue(cosine) ?? defaults.SasRec.CosineDecay,
                    CooldownEpochs = r.GetValue(cooldown) ?? defaults.SasRec.CooldownEpochs,
                },
                Sae = defaults.Sae with
                {
                    MaxEpochs = r.GetValue(saeEpochs) ?? defaults.Sae.MaxEpochs,
                    LearningRate = r.GetValue(saeLr) ?? defaults.Sae.LearningRate,
                    BatchSize = r.GetValue(saeBatch) ?? defaults.Sae.BatchSize,
                    WarmupEpochs = r.GetValue(saeWarmup) ?? defaults.Sae.WarmupEpochs,
                    DecoderBiasFromMean = r.GetValue(saeBiasFromMean) ?? defaults.Sae.DecoderBiasFromMean,
                    UnitNormDecoder = r.GetValue(saeUnitNorm) ?? defaults.Sae.UnitNormDecoder,
                    NormaliseInputs = r.GetValue(saeNormalise) ?? defaults.Sae.NormaliseInputs,
                },
                GroupShare = r.GetValue(share),
                AnalysisPrefixes = r.GetValue(prefixes),
                SyntheticUsers = r.GetValue(synthetic),
            };
            options.Validate();

            // Later stages must see the data through the model's own item ids.
            ItemVocabulary? vocabulary = stage is Stage.TrainSae or Stage.Analyze ? ModelDirectory.LoadItems(ModelDirectory.ReadManifest(directory)) : null;
            var path = r.GetRequiredValue(data);
            Console.WriteLine($"reading {path} ...");
            var dataset = PopSteerFitter.LoadData(path, r.GetValue(format), r.GetValue(kCore), vocabulary);
            Console.WriteLine($"{dataset.UserIds.Count:N0} users, {dataset.Items.Count:N0} items, {dataset.Interactions:N0} interactions");

            var progress = new ConsoleProgress();
            var report = stage switch
            {
                Stage.All => PopSteerFitter.Fit(dataset, directory, options, progress, ct),
                Stage.Train => PopSteerFitter.Train(dataset, directory, options, progress, ct),
                Stage.TrainSae => PopSteerFitter.TrainSae(dataset, directory, options, progress, ct),
                _ => PopSteerFitter.Analyze(dataset, directory, options, progress, ct),
            };
            Print(report);
            if (r.GetValue(curvePlot) is { } png && report.Version.Length > 0) DrawCurves(directory, png);
            return Task.FromResult(report.Cancelled ? 130 : 0);
        });
        return command;
    }

    /// <summary>Draws whichever curves the directory holds (a `train` directory has no SAE curve yet).</summary>
    private static void DrawCurves(string directory, string png)
    {
        IReadOnlyList<LearningCurve.Point> Curve(string file) =>
            File.Exists(Path.Combine(directory, file)) ? LearningCurve.Read(Path.Combine(directory, file)) : [];
        LearningCurvePlot.Save(png, Curve(LearningCurve.SasRecFile), Curve(LearningCurve.SaeFile), Path.GetFileName(Path.GetFullPath(directory)));
        Console.WriteLine($"wrote {png}");
    }

    private static void Print(FitReport report)
    {
        foreach (var warning in report.Warnings) Console.WriteLine($"warning: {warning}");
        Console.WriteLine(report.Cancelled
            ? report.Version.Length == 0 ? "stopped before the first epoch ended: nothing written" : $"stopped: best checkpoint kept in {report.Directory}"
            : $"model {report.Version} written to {report.Directory}");
        foreach (var (stage, time) in report.StageTimes)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  time {stage,-12} {time.TotalSeconds,9:0.0} s"));
        foreach (var (key, value) in report.Metrics.OrderBy(m => m.Key, StringComparer.Ordinal))
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {key,-28} {value:0.#####}"));
    }
}
