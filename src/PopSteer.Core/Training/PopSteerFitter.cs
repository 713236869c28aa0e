using System.Diagnostics;
using System.Globalization;
using PopSteer.Core.Data;
using PopSteer.Core.Evaluation;
using PopSteer.Core.Model;
using PopSteer.Core.Steering;
using PopSteer.Core.Storage;
using TorchSharp;
using static TorchSharp.torch;

namespace PopSteer.Core.Training;

/// <summary>
/// The offline pipeline the CLI drives: <see cref="Train"/> (SASRec), <see cref="TrainSae"/>, <see cref="Analyze"/>,
/// or all three with <see cref="Fit"/>. Each stage reads and writes the model directory, so stages can run apart.
/// Stages after the first require the data the model was trained on (checked by fingerprint).
/// </summary>
public static class PopSteerFitter
{
    /// <summary>Reads a data file, applies the optional k-core filter and builds sequences (with the model's vocabulary when given).</summary>
    public static SequenceDataset LoadData(string path, DataFormat format = DataFormat.Auto, int kCore = 0, ItemVocabulary? vocabulary = null)
    {
        var rows = InteractionReader.Read(path, format);
        if (kCore > 1) rows = KCoreFilter.Apply(rows, kCore);
        return SequenceDataset.FromInteractions(rows, vocabulary);
    }

    public static FitReport Fit(SequenceDataset data, string directory, FitOptions options, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var train = Train(data, directory, options, progress, cancellationToken);
        if (train.Cancelled) return train;
        var sae = TrainSae(data, directory, options, progress, cancellationToken);
        if (sae.Cancelled) return Merge(train, sae);
        var analyze = Analyze(data, directory, options, progress, cancellationToken);
        return Merge(Merge(train, sae), analyze);
    }

    /// <summary>Trains SASRec and writes a directory holding SASRec and the popularity groups (SAE and neurons come later).</summary>
    public static FitReport Train(SequenceDataset data, string directory, FitOptions options, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        var device = TorchRuntime.ResolveDevice(options.Device);
        var times = new Dictionary<string, TimeSpan>();
        var clock = Stopwatch.StartNew();
        var split = LeaveOneOutSplit.Create(data, options.MaxLength);
        var groups = PopularityGroups.FromCounts(split.TrainingTargetCounts, PopularityGroups.ShareWithBothGroups(split.TrainingTargetCounts, options.GroupShare));
        times["split"] = clock.Elapsed;

        random.manual_seed(options.Seed);
        using var sasRec = new SasRec(new SasRecConfig
        {
            ItemCount = data.Items.Count, Dim = options.Dim, Blocks = options.Blocks, Heads = options.Heads, FeedForward = options.FeedForward,
            MaxLength = options.MaxLength, Dropout = options.Dropout, AttentionDropout = options.Dropout, LayerNormEps = options.LayerNormEps,
        });
        clock.Restart();
        var result = SasRecTrainer.Train(sasRec, split, options.SasRec with { Seed = options.Seed, WindowStride = options.WindowStride }, device, progress, cancellationToken: cancellationToken);
        times["sasrec"] = clock.Elapsed;
        // Stopped before the first epoch ended: there is no model to keep (and no metric a manifest could hold).
        if (result.EpochsRun == 0) return new FitReport(directory, "") { SasRec = result, StageTimes = times, Cancelled = true };

        var manifest = new ModelManifest { DataFingerprint = data.Fingerprint, Training = Describe(options) };
        manifest.Metrics["sasrec.valid.ndcg@10"] = result.BestMetric;
        manifest.Metrics["sasrec.best_epoch"] = result.BestEpoch;
        manifest.Metrics["sasrec.epochs"] = result.EpochsRun;
        manifest.Metrics["sasrec.train.loss"] = result.LastLoss;
        manifest.Metrics["sasrec.seconds"] = times["sasrec"].TotalSeconds;
        manifest.Metrics["data.users"] = data.UserIds.Count;
        manifest.Metrics["data.items"] = data.Items.Count;
        manifest.Metrics["data.interactions"] = data.Interactions;
        manifest.Metrics["data.training_samples"] = split.TrainingSamples;
        var warnings = new List<string>();
        var validation = split.Validation.Count > 0 ? split.Validation : split.Test;
        foreach (var reference in Enum.GetValues<ReferenceRecommender>())
        {
            double ndcg = ReferenceRecommenders.Evaluate(reference, groups, validation).Ndcg;
            manifest.Metrics[$"reference.valid.{reference.ToString().ToLowerInvariant()}.ndcg@10"] = ndcg;
            // A trained SASRec must beat what needs no training; when it does not, the recipe, not the data, is at fault.
            if (!(result.BestMetric > ndcg))
                warnings.Add(string.Create(CultureInfo.InvariantCulture,
                    $"SASRec's validation NDCG@10 {result.BestMetric:0.0000} does not beat {ReferenceRecommenders.DisplayName(reference)} ({ndcg:0.0000}): train longer (--epochs, --min-epochs) or check the data."));
        }
        clock.Restart();
        ModelDirectory.Save(directory, manifest, data.Items, sasRec.to(CPU), groups: groups);
        LearningCurve.Write(Path.Combine(directory, LearningCurve.SasRecFile), result.History);
        times["save"] = clock.Elapsed;
        return new FitReport(directory, manifest.Version) { SasRec = result, StageTimes = times, Metrics = manifest.Metrics, Cancelled = result.Cancelled, Warnings = warnings };
    }

    /// <summary>Trains the SAE on the directory's frozen SASRec and adds it (stale neuron statistics are dropped).</summary>
    public static FitReport TrainSae(SequenceDataset data, string directory, FitOptions options, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        var device = TorchRuntime.ResolveDevice(options.Device);
        var (manifest, split) = Open(data, directory, options);
        var times = new Dictionary<string, TimeSpan>();
        using var sasRec = ModelDirectory.LoadSasRec(directory, manifest);
        var groups = ModelDirectory.LoadGroups(directory, manifest);
        var clock = Stopwatch.StartNew();
        // Exact per-prefix vectors (stride 1): each training prefix as scoring sees it, its last <= L items at the last
        // position. A forward pass only, so exactness costs little here even where it would in training.
        using var trainVectors = SaeInputs.TrainingVectors(sasRec, split.TrainSequences, 1, device);
        using var validVectors = SaeInputs.CaseVectors(sasRec, split.Validation.Count > 0 ? split.Validation : split.Test, device);
        times["sae-inputs"] = clock.Elapsed;

        random.manual_seed(options.Seed);
        int kAux = options.SaeKAux == 0 ? 2 * sasRec.Config.Dim : options.SaeKAux;
        bool resumed = options.ResumeSae && manifest.Sae is not null;
        using var sae = resumed
            ? ModelDirectory.LoadSae(directory, manifest)
            : new TopKSae(SaeConfig.ForDim(sasRec.Config.Dim, options.SaeWidthMultiplier, options.SaeK) with { KAux = kAux });
        double priorEpochs = options.ResumeSae ? manifest.Metrics.GetValueOrDefault("sae.epochs") : 0;
        clock.Restart();
        // The start-only choices (mean bias, input scale, row norms) belong to a fresh SAE; a resumed one keeps its own.
        var saeOptions = options.Sae with
        {
            Seed = options.Seed,
            DecoderBiasFromMean = options.Sae.DecoderBiasFromMean && !resumed,
            NormaliseInputs = options.Sae.NormaliseInputs && !resumed,
            UnitNormDecoder = options.Sae.UnitNormDecoder && !resumed,
        };
        var result = SaeTrainer.Train(sae, trainVectors, validVectors, saeOptions, device, progress, cancellationToken: cancellationToken);
        times["sae"] = clock.Elapsed;

        foreach (var k in manifest.Metrics.Keys.Where(k => k.StartsWith("sae.", StringComparison.Ordinal) || k.StartsWith("analyze.", StringComparison.Ordinal)).ToList())
            manifest.Metrics.Remove(k);
        manifest.Metrics["sae.valid.fvu"] = result.BestMetric;
        manifest.Metrics["sae.best_epoch"] = result.BestEpoch;
        manifest.Metrics["sae.epochs"] = priorEpochs + result.EpochsRun;
        manifest.Metrics["sae.train.loss"] = result.LastLoss;
        manifest.Metrics["sae.train_vectors"] = trainVectors.shape[0];
        manifest.Metrics["sae.input_scale"] = result.InputScale;
        manifest.Metrics["sae.seconds"] = times["sae"].TotalSeconds;
        manifest.Metrics["sae.inputs.seconds"] = times["sae-inputs"].TotalSeconds;
        manifest.Training = Merge(manifest.Training, Describe(options), "sae.");
        manifest.Analysis = null;
        manifest.Steering = null;
        clock.Restart();
        ModelDirectory.Save(directory, manifest, ModelDirectory.LoadItems(manifest), sasRec, sae.to(CPU), groups: groups);
        LearningCurve.Write(Path.Combine(directory, LearningCurve.SaeFile), result.History);
        times["save"] = clock.Elapsed;
        return new FitReport(directory, manifest.Version) { Sae = result, StageTimes = times, Metrics = manifest.Metrics, Cancelled = result.Cancelled };
    }

    /// <summary>Computes the neuron statistics (section 5) with the directory's SASRec and SAE and adds them.</summary>
    public static FitReport Analyze(SequenceDataset data, string directory, FitOptions options, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        var device = TorchRuntime.ResolveDevice(options.Device);
        var (manifest, split) = Open(data, directory, options);
        using var sasRec = ModelDirectory.LoadSasRec(directory, manifest);
        using var sae = ModelDirectory.LoadSae(directory, manifest);
        // Groups follow the requested share (the 2026 variant uses 0.1), recomputed from the same training targets; where
        // one item alone holds more than the share, the share widens until head and tail both have an item.
        double share = PopularityGroups.ShareWithBothGroups(split.TrainingTargetCounts, options.GroupShare);
        var groups = PopularityGroups.FromCounts(split.TrainingTargetCounts, share);
        var settings = new AnalysisSettings { Prefixes = options.AnalysisPrefixes, GroupShare = share, Mode = options.SyntheticUsers, Seed = options.Seed };
        var clock = Stopwatch.StartNew();
        NeuronStats stats;
        try
        {
            stats = NeuronAnalyzer.Analyze(sasRec, sae, split.TrainSequences, groups, settings, device, progress, cancellationToken: cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return new FitReport(directory, manifest.Version) { Cancelled = true, StageTimes = new Dictionary<string, TimeSpan> { ["analyze"] = clock.Elapsed } };
        }
        var elapsed = clock.Elapsed;
        manifest.Analysis = settings;
        manifest.Metrics["analyze.seconds"] = elapsed.TotalSeconds;
        manifest.Metrics["analyze.head_items"] = groups.Size(PopularityGroup.Head);
        manifest.Metrics["analyze.tail_items"] = groups.Size(PopularityGroup.Tail);
        manifest.Metrics["analyze.tail_neurons"] = stats.CohenD.Count(d => d < 0);
        manifest.Metrics["analyze.head_neurons"] = stats.CohenD.Count(d => d > 0);
        manifest.Steering = null;
        ModelDirectory.Save(directory, manifest, ModelDirectory.LoadItems(manifest), sasRec.to(CPU), sae.to(CPU), stats, groups);
        var warnings = share == options.GroupShare ? new List<string>() : [string.Create(CultureInfo.InvariantCulture,
            $"at head/tail share {options.GroupShare} the head or the tail is empty (one item alone holds more than the share); the groups use share {share} (recorded in the manifest).")];
        return new FitReport(directory, manifest.Version) { AnalyzeTime = elapsed, StageTimes = new Dictionary<string, TimeSpan> { ["analyze"] = elapsed }, Metrics = manifest.Metrics, Warnings = warnings };
    }

    /// <summary>Verifies the directory and that <paramref name="data"/> is the data it was trained on.</summary>
    private static (ModelManifest, LeaveOneOutSplit) Open(SequenceDataset data, string directory, FitOptions options)
    {
        var manifest = ModelDirectory.Verify(directory);
        if (!string.Equals(manifest.DataFingerprint, data.Fingerprint, StringComparison.Ordinal))
            throw new InvalidOperationException($"{directory}: the model was trained on other data (fingerprint {manifest.DataFingerprint[..Math.Min(12, manifest.DataFingerprint.Length)]}, this data {data.Fingerprint[..12]}). Load the data with the model's item vocabulary and the same file and k-core setting.");
        return (manifest, LeaveOneOutSplit.Create(data, manifest.SasRec.MaxLength));
    }

    private static Dictionary<string, string> Describe(FitOptions o) => new()
    {
        ["seed"] = o.Seed.ToString(CultureInfo.InvariantCulture),
        ["device"] = o.Device,
        ["sasrec.lr"] = o.SasRec.LearningRate.ToString(CultureInfo.InvariantCulture),
        ["sasrec.batch"] = o.SasRec.BatchSize.ToString(CultureInfo.InvariantCulture),
        ["sasrec.max_epochs"] = o.SasRec.MaxEpochs.ToString(CultureInfo.InvariantCulture),
        ["sasrec.patience"] = o.SasRec.Patience.ToString(CultureInfo.InvariantCulture),
        ["sasrec.min_epochs"] = o.SasRec.MinEpochs.ToString(CultureInfo.InvariantCulture),
        ["sasrec.window_stride"] = o.WindowStride.ToString(CultureInfo.InvariantCulture),
        ["sasrec.warmup_epochs"] = o.SasRec.WarmupEpochs.ToString(CultureInfo.InvariantCulture),
        ["sasrec.cosine_decay"] = o.SasRec.CosineDecay ? "true" : "false",
        ["sasrec.cooldown_epochs"] = o.SasRec.CooldownEpochs.ToString(CultureInfo.InvariantCulture),
        ["sasrec.loss"] = "full softmax cross-entropy, every scored window position",
        ["sae.lr"] = o.Sae.LearningRate.ToString(CultureInfo.InvariantCulture),
        ["sae.batch"] = o.Sae.BatchSize.ToString(CultureInfo.InvariantCulture),
        ["sae.max_epochs"] = o.Sae.MaxEpochs.ToString(CultureInfo.InvariantCulture),
        ["sae.patience"] = o.Sae.Patience.ToString(CultureInfo.InvariantCulture),
        ["sae.aux_weight"] = o.Sae.AuxWeight.ToString(CultureInfo.InvariantCulture),
        ["sae.warmup_epochs"] = o.Sae.WarmupEpochs.ToString(CultureInfo.InvariantCulture),
        ["sae.cosine_decay"] = o.Sae.CosineDecay ? "true" : "false",
        ["sae.decoder_bias_from_mean"] = o.Sae.DecoderBiasFromMean ? "true" : "false",
        ["sae.unit_norm_decoder"] = o.Sae.UnitNormDecoder ? "true" : "false",
        ["sae.normalise_inputs"] = o.Sae.NormaliseInputs ? "true" : "false",
        ["sae.inputs"] = "exact per-prefix vectors (stride 1)",
        ["group_share"] = o.GroupShare.ToString(CultureInfo.InvariantCulture),
    };

    private static Dictionary<string, string> Merge(Dictionary<string, string> existing, Dictionary<string, string> update, string prefix)
    {
        var merged = new Dictionary<string, string>(existing);
        foreach (var (k, v) in update) if (k.StartsWith(prefix, StringComparison.Ordinal)) merged[k] = v;
        return merged;
    }

    private static FitReport Merge(FitReport a, FitReport b)
    {
        var times = new Dictionary<string, TimeSpan>();
        foreach (var (k, v) in a.StageTimes) times[k] = v;
        foreach (var (k, v) in b.StageTimes) times[k] = times.TryGetValue(k, out var t) ? t + v : v;
        return new FitReport(b.Directory, b.Version)
        {
            SasRec = b.SasRec ?? a.SasRec,
            Sae = b.Sae ?? a.Sae,
            AnalyzeTime = b.AnalyzeTime ?? a.AnalyzeTime,
            StageTimes = times,
            Metrics = b.Metrics,
            Cancelled = a.Cancelled || b.Cancelled,
            Warnings = [.. a.Warnings, .. b.Warnings],
        };
    }
}
