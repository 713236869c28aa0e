using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Options;
using PopSteer.Core;
using PopSteer.Core.Data;
using PopSteer.Core.Evaluation;
using PopSteer.Core.Metrics;
using PopSteer.Core.Model;
using PopSteer.Core.Scoring;
using PopSteer.Core.Steering;
using PopSteer.Core.Storage;
using PopSteer.Core.Training;
using PopSteer.Streaming.Sequences;
using TorchSharp;
using static TorchSharp.torch;

namespace PopSteer.Retrainer;

/// <summary>
/// Builds a refitted model directory from the serving one and validates it (METHOD.md sections 4-5 on live data):
/// the popularity groups come from the live decayed counts; the neuron statistics (mu, sigma, Cohen's d) are
/// recomputed on the recent users' training prefixes; optionally the SAE is fine-tuned first on their SASRec vectors.
/// When new items pass Retrainer:NewItemsShare (or with SasRecFineTune = Always) SASRec is warm-started with its item
/// table grown by them (<see cref="IncrementalSasRecTrainer"/>) and the SAE follows; otherwise SASRec and the item
/// table are kept. Validation holds out each recent user's last item (leave-one-out): the SAE's FVU, PopSteer's
/// NDCG@10 against SASRec's at the Scorers' steering, PopSteer's Gini@10 against SASRec's, and both against the
/// version serving now on the same users at the same steering.
/// No Kafka or Redis here: the <see cref="RetrainerWorker"/> supplies the data and publishes.
/// </summary>
public sealed class ModelRefitter(IOptions<RetrainerOptions> options, ILogger<ModelRefitter> logger)
{
    private readonly RetrainerOptions _options = options.Value;

    /// <summary>New items enter when their share of the live popularity reaches Retrainer:NewItemsShare (0 = never).</summary>
    public static bool AdmitsNewItems(RetrainerOptions options, DriftReport drift) =>
        options.SasRecFineTune != SasRecFineTune.Never && options.NewItemsShare > 0 && drift.UnknownShare >= options.NewItemsShare;

    public RefitResult Refit(string baseDirectory, string outputDirectory, PopularitySnapshot live, DriftReport drift,
        IReadOnlyList<UserSequence> users, RefitSteering steering, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var manifest = ModelDirectory.Verify(baseDirectory);
        string baseVersion = manifest.Version;
        var servingItems = ModelDirectory.LoadItems(manifest);
        var device = TorchRuntime.ResolveDevice(_options.Device);

        // New items: those the serving model lacks with enough live popularity, most popular first, bounded.
        var newItems = AdmitsNewItems(_options, drift)
            ? live.Counts.Where(kv => kv.Value >= _options.NewItemMinCount && !servingItems.TryGetInternal(kv.Key, out _))
                .OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(_options.MaxNewItems).Select(kv => kv.Key).ToArray()
            : [];
        bool tuneSasRec = _options.SasRecFineTune == SasRecFineTune.Always || newItems.Length > 0;
        var items = newItems.Length == 0 ? servingItems : new ItemVocabulary(servingItems.ExternalIds.Concat(newItems));

        // Recent users' sequences as the model sees them (unknown items dropped), split leave-one-out.
        var rows = new List<Interaction>();
        foreach (var user in users)
            foreach (var entry in user.Entries)
                rows.Add(new Interaction(user.UserId, entry.ItemId, entry.Timestamp.ToUnixTimeMilliseconds()));
        var data = SequenceDataset.FromInteractions(rows, items);
        var split = LeaveOneOutSplit.Create(data, manifest.SasRec.MaxLength);
        var test = split.Test.Where(c => c.History.Length > 0).ToArray();
        if (test.Length < _options.MinValidationUsers)
            return RefitResult.Failed(baseVersion, $"only {test.Length} recent users have a held-out item and a history the model knows; Retrainer:MinValidationUsers is {_options.MinValidationUsers}");
        if (split.TrainingSamples == 0)
            return RefitResult.Failed(baseVersion, "no recent user has two training items: nothing to analyse");

        var (liveCounts, _) = DriftDetector.Map(live.Counts, items);
        // The serving model's share; where one live item alone holds more than it, widened as fit widens it.
        var liveWhole = DriftDetector.ToWholeCounts(liveCounts);
        double share = PopularityGroups.ShareWithBothGroups(liveWhole, manifest.Analysis?.GroupShare ?? 0.2);
        var groups = PopularityGroups.FromCounts(liveWhole, share);
        int head = groups.Size(PopularityGroup.Head), tail = groups.Size(PopularityGroup.Tail);
        if (head == 0 || tail == 0)
            return RefitResult.Failed(baseVersion, $"the live popularity gives {head} head and {tail} tail items at share {share}: the neuron scores need both");

        using var servingSasRec = ModelDirectory.LoadSasRec(baseDirectory, manifest);
        using var sae = ModelDirectory.LoadSae(baseDirectory, manifest);
        var oldStats = ModelDirectory.LoadNeurons(baseDirectory, manifest);
        // Before anything is fine-tuned in place: what the serving SAE reconstructs of the same held-out users.
        double servingFvu = ServingFvu(servingSasRec, sae, servingItems.Count, test, device);

        // SASRec warm start: the serving weights, the item table grown by the new items, fine-tuned on the recent
        // users with fit's own loop, within an epoch cap and a time budget.
        TrainingResult? sasRecResult = null;
        using var grown = tuneSasRec ? IncrementalSasRecTrainer.Grow(servingSasRec, newItems.Length, _options.Seed) : null;
        var sasRec = grown ?? servingSasRec;
        if (grown is not null)
        {
            var tuning = new SasRecTrainingOptions
            {
                LearningRate = _options.SasRecLearningRate,
                MaxEpochs = _options.SasRecEpochs,
                Patience = Math.Min(2, _options.SasRecEpochs),
                // A fine-tune from serving weights at its own small rate, as measured: no warm-up, no cool-down.
                WarmupEpochs = 0,
                CooldownEpochs = 0,
                Seed = _options.Seed,
            };
            sasRecResult = IncrementalSasRecTrainer.FineTune(grown, split, tuning, _options.SasRecTimeBudget, device, cancellationToken: cancellationToken);
            grown.to(CPU);
            logger.LogInformation("SASRec fine-tuned with {New} new items ({Items} in all) on {Users} users: {Epochs} epochs in {Seconds:0.0} s{Budget}, valid NDCG@10 {Ndcg:0.0000}",
                newItems.Length, items.Count, data.UserIds.Count, sasRecResult.EpochsRun, sasRecResult.Elapsed.TotalSeconds,
                sasRecResult.Cancelled ? " (stopped by Retrainer:SasRecTimeBudget)" : "", sasRecResult.BestMetric);
        }

        TrainingResult? saeResult = null;
        var stage = Stopwatch.StartNew();
        // SASRec's vectors moved: the SAE must follow them before the neurons are scored again.
        if (_options.RefitSae || grown is not null)
        {
            // Fine-tuned from the serving weights: the dictionary should follow the users, not be relearned from scratch.
            int stride = manifest.Training.TryGetValue("sasrec.window_stride", out var s) && int.TryParse(s, CultureInfo.InvariantCulture, out var v)
                ? v : Math.Max(1, manifest.SasRec.MaxLength / 2);
            using var trainVectors = SaeInputs.TrainingVectors(sasRec, split.TrainSequences, stride, device);
            using var validVectors = SaeInputs.CaseVectors(sasRec, split.Validation.Count >= 2 ? split.Validation : test, device);
            var saeOptions = new SaeTrainingOptions
            {
                LearningRate = _options.SaeLearningRate,
                MaxEpochs = _options.SaeEpochs,
                // The fine-tune's measured setting (docs/retrainer.md): a few gentle epochs from the serving weights, not
                // the from-scratch schedule's small batches (which would cost the refit about 1.4x the SAE time).
                BatchSize = 256,
                Patience = Math.Min(3, _options.SaeEpochs),
                Seed = _options.Seed,
                // The serving SAE already reads SASRec's raw vectors with its own b_dec and row norms: a fine-tune must
                // neither rescale its inputs, nor restart its bias, nor renormalise its rows.
                NormaliseInputs = false,
                DecoderBiasFromMean = false,
                UnitNormDecoder = false,
            };
            if (trainVectors.shape[0] >= 2)
            {
                saeResult = SaeTrainer.Train(sae, trainVectors, validVectors, saeOptions, device, cancellationToken: cancellationToken);
                sae.to(CPU);
            }
            else logger.LogWarning("SAE not fine-tuned: {Count} training vectors", trainVectors.shape[0]);
        }
        cancellationToken.ThrowIfCancellationRequested();
        double saeSeconds = stage.Elapsed.TotalSeconds;
        stage.Restart();

        var analysis = new AnalysisSettings
        {
            Prefixes = _options.AnalysisPrefixes,
            GroupShare = share,
            Mode = manifest.Analysis?.Mode ?? SyntheticUserMode.Sample,
            Seed = _options.Seed,
        };
        var stats = NeuronAnalyzer.Analyze(sasRec, sae, split.TrainSequences, groups, analysis, device, cancellationToken: cancellationToken);
        sasRec.to(CPU);
        sae.to(CPU);
        double analysisSeconds = stage.Elapsed.TotalSeconds;

        manifest.CreatedAt = DateTimeOffset.UtcNow;
        manifest.Analysis = analysis;
        foreach (var k in manifest.Metrics.Keys.Where(k => k.StartsWith("retrain.", StringComparison.Ordinal)).ToList()) manifest.Metrics.Remove(k);
        manifest.Metrics["analyze.head_items"] = head;
        manifest.Metrics["analyze.tail_items"] = tail;
        manifest.Metrics["analyze.tail_neurons"] = stats.CohenD.Count(d => d < 0);
        manifest.Metrics["analyze.head_neurons"] = stats.CohenD.Count(d => d > 0);
        manifest.Metrics["retrain.drift.js_divergence"] = drift.JsDivergence;
        manifest.Metrics["retrain.drift.head_overlap"] = drift.HeadOverlap;
        manifest.Metrics["retrain.drift.unknown_share"] = drift.UnknownShare;
        manifest.Metrics["retrain.events"] = live.Events;
        manifest.Metrics["retrain.users"] = data.UserIds.Count;
        manifest.Metrics["retrain.train_prefixes"] = split.TrainingSamples;
        manifest.Metrics["retrain.neurons.mean_abs_d_change"] = oldStats.CohenD.Zip(stats.CohenD, (a, b) => Math.Abs(a - b)).Average();
        manifest.Metrics["retrain.new_items"] = newItems.Length;
        if (sasRecResult is not null)
        {
            manifest.Metrics["retrain.sasrec.epochs"] = sasRecResult.EpochsRun;
            manifest.Metrics["retrain.sasrec.seconds"] = sasRecResult.Elapsed.TotalSeconds;
            manifest.Metrics["retrain.sasrec.valid.ndcg@10"] = sasRecResult.BestMetric;
            manifest.Metrics["retrain.sasrec.stopped_by_budget"] = sasRecResult.Cancelled ? 1 : 0;
            manifest.DataFingerprint = data.Fingerprint;
        }
        if (saeResult is not null)
        {
            manifest.Metrics["retrain.sae.valid.fvu"] = saeResult.BestMetric;
            manifest.Metrics["retrain.sae.epochs"] = saeResult.EpochsRun;
            manifest.Metrics["retrain.sae.seconds"] = saeSeconds;
        }
        // Where a refit's time goes (the SASRec stage is retrain.sasrec.seconds): what to cut when it is too slow.
        manifest.Metrics["retrain.analysis.seconds"] = analysisSeconds;
        manifest.Training["retrain.base_version"] = baseVersion;
        manifest.Training["retrain.refit_sae"] = (saeResult is not null).ToString(CultureInfo.InvariantCulture);
        manifest.Training["retrain.sasrec_fine_tuned"] = (sasRecResult is not null).ToString(CultureInfo.InvariantCulture);
        manifest.Training["retrain.popularity_half_life"] = _options.PopularityHalfLife.ToString("c", CultureInfo.InvariantCulture);
        manifest.Training["retrain.live_counts_at"] = live.At.ToString("o", CultureInfo.InvariantCulture);
        ModelDirectory.Save(outputDirectory, manifest, items, sasRec, sae, stats, groups);

        stage.Restart();
        var validation = Validate(outputDirectory, baseDirectory, sae, sasRec, test, steering, device) with { ServingFvu = servingFvu };
        manifest.Metrics["retrain.validation.seconds"] = stage.Elapsed.TotalSeconds;
        var problems = Check(validation, _options);
        manifest.Metrics["retrain.validation.users"] = validation.Users;
        manifest.Metrics["retrain.validation.fvu"] = validation.Fvu;
        manifest.Metrics["retrain.validation.serving.fvu"] = validation.ServingFvu;
        manifest.Metrics["retrain.validation.alpha"] = validation.Alpha;
        manifest.Metrics["retrain.validation.neurons"] = validation.Neurons;
        manifest.Metrics["retrain.validation.sasrec.ndcg@10"] = validation.SasRec.Ndcg;
        manifest.Metrics["retrain.validation.popsteer.ndcg@10"] = validation.PopSteer.Ndcg;
        manifest.Metrics["retrain.validation.ndcg_drop"] = validation.NdcgDrop;
        manifest.Metrics["retrain.validation.sasrec.gini@10"] = validation.SasRec.Gini;
        manifest.Metrics["retrain.validation.popsteer.gini@10"] = validation.PopSteer.Gini;
        manifest.Metrics["retrain.validation.serving.ndcg@10"] = validation.Serving.Ndcg;
        manifest.Metrics["retrain.validation.serving.gini@10"] = validation.Serving.Gini;
        manifest.Metrics["retrain.validation.serving_ndcg_drop"] = validation.ServingNdcgDrop;
        manifest.Metrics["retrain.validation.passed"] = problems.Count == 0 ? 1 : 0;
        manifest.Metrics["retrain.seconds"] = clock.Elapsed.TotalSeconds;
        ModelDirectory.WriteManifest(outputDirectory, manifest);

        logger.LogInformation(
            "Refit of {Base} from {Users} users ({New} new items): JS {Js:0.0000} bits, head overlap {Overlap:0.00}; validation on {Held} users: FVU {Fvu:0.000} (serving {FvuV:0.000}), NDCG@10 SASRec {NdcgS:0.0000} PopSteer {NdcgP:0.0000} (drop {Drop:P1}) serving {NdcgV:0.0000}, Gini@10 SASRec {GiniS:0.0000} PopSteer {GiniP:0.0000} serving {GiniV:0.0000} at alpha {Alpha}, N {N}; {Verdict}",
            baseVersion, data.UserIds.Count, newItems.Length, drift.JsDivergence, drift.HeadOverlap, validation.Users, validation.Fvu, validation.ServingFvu, validation.SasRec.Ndcg, validation.PopSteer.Ndcg,
            validation.NdcgDrop, validation.Serving.Ndcg, validation.SasRec.Gini, validation.PopSteer.Gini, validation.Serving.Gini, validation.Alpha, validation.Neurons,
            problems.Count == 0 ? "passed" : "REJECTED: " + string.Join("; ", problems));
        return new RefitResult(problems.Count == 0 ? RefitOutcome.Published : RefitOutcome.Rejected, baseVersion, outputDirectory, validation, problems);
    }

    private RefitValidation Validate(string directory, string servingDirectory, TopKSae sae, SasRec sasRec, IReadOnlyList<EvaluationCase> test, RefitSteering steering, Device device)
    {
        using var model = PopSteerModel.Load(directory, _options.Device);
        int neurons = Math.Min(steering.Neurons ?? model.SaeWidth, model.SaeWidth);
        var plan = model.PlanFor(steering.Alpha, neurons);
        using var prepared = Evaluator.Prepare(model, test);
        var sasRecMetrics = Evaluator.Evaluate(prepared, ScoringMethod.SasRec).Metrics;
        var popSteerMetrics = Evaluator.Evaluate(prepared, ScoringMethod.PopSteer, plan).Metrics;
        var serving = Serving(servingDirectory, model.Items, test, steering);
        using var vectors = SaeInputs.CaseVectors(sasRec, test, device);
        double fvu = SaeTrainer.Fvu(sae.to(device), vectors.to(device));
        sae.to(CPU);
        sasRec.to(CPU);
        return new RefitValidation(test.Count, fvu, sasRecMetrics, popSteerMetrics, steering.Alpha, neurons) { Serving = serving };
    }

    /// <summary>
    /// The serving SAE's FVU on the serving SASRec's vectors of the held-out histories in its own vocabulary: the
    /// grown vocabulary keeps the serving items' ids, so the new items (ids above <paramref name="servingItems"/>) are
    /// dropped, and users left with no history are left out. NaN when none remain.
    /// </summary>
    private static double ServingFvu(SasRec servingSasRec, TopKSae servingSae, int servingItems, IReadOnlyList<EvaluationCase> test, Device device)
    {
        var cases = test.Select(c => c with { History = c.History.Where(i => i <= servingItems).ToArray() }).Where(c => c.History.Length > 0).ToArray();
        if (cases.Length == 0) return double.NaN;
        using var vectors = SaeInputs.CaseVectors(servingSasRec, cases, device);
        double fvu = SaeTrainer.Fvu(servingSae.to(device), vectors.to(device));
        servingSae.to(CPU);
        servingSasRec.to(CPU);
        return fvu;
    }

    /// <summary>
    /// The version serving now, on the same held-out users at the same steering (what the Scorers would go on
    /// serving without this refit). Histories and targets are mapped to its vocabulary: a target it does not know
    /// (a new item) is a miss, and a user with no history it knows gets no list (the Scorer's fallback) and a miss.
    /// NDCG is over all users; Gini over the lists it could make.
    /// </summary>
    private MetricSet Serving(string servingDirectory, ItemVocabulary refitItems, IReadOnlyList<EvaluationCase> test, RefitSteering steering)
    {
        using var model = PopSteerModel.Load(servingDirectory, _options.Device);
        int neurons = Math.Min(steering.Neurons ?? model.SaeWidth, model.SaeWidth);
        var cases = new List<EvaluationCase>(test.Count);
        foreach (var c in test)
        {
            var history = c.History.Select(i => model.Items.TryGetInternal(refitItems.ToExternal(i), out var id) ? id : 0).Where(i => i > 0).ToArray();
            if (history.Length == 0) continue;
            cases.Add(new EvaluationCase(c.User, history, model.Items.TryGetInternal(refitItems.ToExternal(c.Target), out var target) ? target : 0));
        }
        if (cases.Count == 0) return new MetricSet { Users = test.Count, Gini = double.NaN };
        var metrics = Evaluator.Evaluate(model, cases, ScoringMethod.PopSteer, model.PlanFor(steering.Alpha, neurons)).Metrics;
        return metrics with { Users = test.Count, Ndcg = metrics.Ndcg * cases.Count / test.Count };
    }

    /// <summary>Every validation bound the refit misses, each naming its setting; empty when it may be published.</summary>
    internal static List<string> Check(RefitValidation v, RetrainerOptions options)
    {
        var problems = new List<string>();
        // Absolute floor, relative to what serves: a NaN serving FVU leaves the floor alone; a NaN FVU never passes.
        double servingBound = v.ServingFvu * (1 + options.MaxFvuRiseVsServing);
        double maxFvu = servingBound > options.MaxFvu ? servingBound : options.MaxFvu;
        if (!(v.Fvu <= maxFvu))
            problems.Add(string.Create(CultureInfo.InvariantCulture,
                $"SAE FVU {v.Fvu:0.0000} exceeds {maxFvu:0.0000} = max(Retrainer:MaxFvu {options.MaxFvu}, the serving SAE's {v.ServingFvu:0.0000} x (1 + Retrainer:MaxFvuRiseVsServing {options.MaxFvuRiseVsServing}))"));
        if (v.NdcgDrop > options.MaxNdcgDrop)
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"PopSteer NDCG@10 {v.PopSteer.Ndcg:0.0000} is {v.NdcgDrop:P1} below SASRec's {v.SasRec.Ndcg:0.0000} (Retrainer:MaxNdcgDrop {options.MaxNdcgDrop:P1})"));
        if (v.ServingNdcgDrop > options.MaxNdcgDropVsServing)
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"PopSteer NDCG@10 {v.PopSteer.Ndcg:0.0000} is {v.ServingNdcgDrop:P1} below the serving version's {v.Serving.Ndcg:0.0000} on the same users and steering (Retrainer:MaxNdcgDropVsServing {options.MaxNdcgDropVsServing:P1})"));
        if (v.PopSteer.Gini - v.Serving.Gini > options.MaxGiniRiseVsServing)
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"PopSteer Gini@10 {v.PopSteer.Gini:0.0000} is {v.PopSteer.Gini - v.Serving.Gini:0.0000} above the serving version's {v.Serving.Gini:0.0000} (Retrainer:MaxGiniRiseVsServing {options.MaxGiniRiseVsServing})"));
        if (options.RequireGiniReduction && !(v.PopSteer.Gini < v.SasRec.Gini))
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"steering no longer lowers Gini@10 (PopSteer {v.PopSteer.Gini:0.0000}, SASRec {v.SasRec.Gini:0.0000}; Retrainer:RequireGiniReduction)"));
        return problems;
    }
}
