using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PopSteer.Core.Data;
using PopSteer.Core.Metrics;
using PopSteer.Core.Scoring;
using PopSteer.Core.Storage;
using PopSteer.Core.Training;
using PopSteer.Retrainer;
using PopSteer.Streaming.Sequences;

namespace PopSteer.Bench;

/// <summary>
/// Does a refit win back what a drift takes from steering? The demo's drift story without Kafka or Redis, on a stream
/// as large as wanted: the demo's generated data and split (each user's latest events held out as the live stream),
/// the demo's <see cref="DriftScenario"/> at <c>--drift-at</c>, a model fitted on the rest, and at <c>--refit-at</c> of
/// the drifted part the Retrainer's own <see cref="ModelRefitter"/> run three ways on the live decayed counts and the
/// users' sequences so far: (b) neuron statistics only, (c) + SAE fine-tune, (d) + SASRec warm start with the new
/// items. Each of those and (a) the stale model then lists for every user from their history up to their next event
/// after the refit point: served (PopSteer at <c>--alpha</c>) and unsteered (the same version's SASRec), scored against
/// that event (NDCG@10), for tail share against the popularity users show after the drift, and for Gini@10 over the
/// whole catalogue, new items included. Validation bounds are opened: this measures, it does not gate.
/// </summary>
internal static class DriftBench
{
    public static int Run(Args opts)
    {
        int users = opts.Int("users", 1000), items = opts.Int("items", 500), interactions = opts.Int("interactions", 50_000), seed = opts.Int("seed", 42);
        double holdout = opts.Double("holdout", 0.25), driftAtShare = opts.Double("drift-at", 0.3), refitAtShare = opts.Double("refit-at", 0.5);
        double alpha = opts.Double("alpha", 1.5);
        int halfLifeEvents = opts.Int("half-life-events", 2000);
        var work = opts.Get("work", Path.Combine(Path.GetTempPath(), "popsteer-drift-bench"));

        var rows = SyntheticDataGenerator.Generate(new SyntheticDataOptions(users, items, interactions, seed));
        var (train, live) = SplitLatest(rows, holdout);
        int driftAt = (int)(live.Count * driftAtShare);
        var (stream, plan) = DriftScenario.Apply(train, live, driftAt, new DriftScenarioOptions { Seed = seed });
        int refitAt = driftAt + (int)((stream.Count - driftAt) * refitAtShare);
        Console.WriteLine($"drift bench: {rows.Count:N0} interactions ({users:N0} users, {items:N0} items, seed {seed}); {train.Count:N0} train, {stream.Count:N0} live; " +
                          $"drift at event {driftAt:N0} ({plan.Fading.Count} heads fade, {plan.Rising.Count} items rise, {plan.NewItems.Count} new), refit at {refitAt:N0}");

        var modelDirectory = opts.Get("model") ?? FitOnce(train, work, opts, seed);
        var baseManifest = ModelDirectory.Verify(modelDirectory);

        // The live stream on a clock of one event per second: the Retrainer's decay in events, as the demo's replay.
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var counts = new DecayedCounts(TimeSpan.FromSeconds(halfLifeEvents), start);
        // --trace N: the drift numbers every N events from the drift on, to see when each trigger would fire.
        int trace = opts.Int("trace", 0);
        var servingItems = ModelDirectory.LoadItems(baseManifest);
        var servingGroups = ModelDirectory.LoadGroups(modelDirectory, baseManifest);
        for (int i = 0; i < (trace > 0 ? stream.Count : refitAt); i++)
        {
            counts.Add(stream[i].ItemId, start.AddSeconds(i));
            if (trace > 0 && i >= driftAt && (i - driftAt) % trace == 0)
            {
                var d = DriftDetector.Compare(baseManifest.Version, counts.CountsAt(), servingItems, servingGroups);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  event {i:N0} ({i - driftAt:N0} after the drift): JS {d.JsDivergence:0.000} bits (noise {d.SamplingNoiseJs:0.000}), head overlap {d.HeadOverlap:0.00}, unknown share {d.UnknownShare:0.000}"));
            }
        }
        if (trace > 0) return 0;
        var liveCounts = counts.CountsAt();
        // Cost per new item (--extra-new-items N): N more unknown items with just enough live weight to enter. They are
        // in no sequence, so they teach nothing, but they cost what any item does: a row of the item table (and its
        // gradient and Adam moments) and a column of the output layer's logits at every training step.
        int extraNewItems = opts.Int("extra-new-items", 0);
        if (extraNewItems > 0)
        {
            var grown = new Dictionary<string, double>(liveCounts, StringComparer.Ordinal);
            for (int k = 0; k < extraNewItems; k++) grown[$"cost-new-{k}"] = opts.Double("new-item-min-count", 5);
            liveCounts = grown;
        }
        var snapshot = new PopularitySnapshot(liveCounts, counts.Latest, refitAt, refitAt);
        var drift = DriftDetector.Compare(baseManifest.Version, snapshot.Counts, servingItems, servingGroups);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"at the refit point: JS {drift.JsDivergence:0.0000} bits (sampling noise {drift.SamplingNoiseJs:0.0000}), head overlap {drift.HeadOverlap:0.00}, unknown-item share {drift.UnknownShare:0.000}"));

        // What Redis holds at the refit point: each user's training history (the demo seeds it) and live events so far.
        var sequences = Histories(train, stream, refitAt, start)
            .Select(kv => new UserSequence(kv.Key, kv.Value)).ToArray();
        var steering = new RefitSteering(alpha, opts.Get("neurons") is { } n ? int.Parse(n, CultureInfo.InvariantCulture) : null);
        var variants = new (string Name, RetrainerOptions Options)[]
        {
            ("(b) neuron statistics", Refit(opts, seed, SasRecFineTune.Never, refitSae: false)),
            ("(c) + SAE fine-tune", Refit(opts, seed, SasRecFineTune.Never, refitSae: true)),
            ("(d) + SASRec, new items", Refit(opts, seed, SasRecFineTune.NewItems, refitSae: true)),
        };
        var models = new List<(string Name, string Directory, string Note)> { ("(a) stale", modelDirectory, "") };
        var chosen = opts.Get("variants", "b,c,d").Split(',');
        foreach (var (name, options) in variants.Where(v => chosen.Contains(v.Name[1].ToString())))
        {
            GC.Collect();
            var memory = PeakMemory.Start();
            long allocated = GC.GetTotalAllocatedBytes();
            var clock = Stopwatch.StartNew();
            var refitter = new ModelRefitter(Options.Create(options), NullLogger<ModelRefitter>.Instance);
            var result = refitter.Refit(modelDirectory, Path.Combine(work, "refits", $"{baseManifest.Version}-{name[1]}-r{refitAt}-h{halfLifeEvents}-x{extraNewItems}"), snapshot, drift, sequences, steering);
            var v = result.Validation;
            var m = result.Directory is null ? new Dictionary<string, double>() : ModelDirectory.Verify(result.Directory).Metrics;
            double Metric(string key) => m.TryGetValue(key, out var x) ? x : double.NaN;
            string note = v is null ? string.Join("; ", result.Problems) : string.Create(CultureInfo.InvariantCulture,
                $"refit {clock.Elapsed.TotalSeconds:0.0} s (SASRec {Metric("retrain.sasrec.seconds"):0.0} s over {Metric("retrain.sasrec.epochs"):0} epochs, SAE {Metric("retrain.sae.seconds"):0.0} s, " +
                $"analysis {Metric("retrain.analysis.seconds"):0.0} s, validation {Metric("retrain.validation.seconds"):0.0} s), +{Metric("retrain.new_items"):0} items; " +
                $"{memory.Describe()}, managed allocations {(GC.GetTotalAllocatedBytes() - allocated) / 1048576.0:0} MiB; " +
                $"validation FVU {v.Fvu:0.000} (serving {v.ServingFvu:0.000}), NDCG@10 {v.PopSteer.Ndcg:0.0000} vs serving {v.Serving.Ndcg:0.0000}");
            Console.WriteLine($"{name}: {note}");
            if (result.Directory is not null) models.Add((name, result.Directory, note));
        }
        if (opts.Flag("no-lists")) return 0;

        // Tail = the popularity users show: the training data's before the drift, the drifted stream's after it.
        var catalogue = new ItemVocabulary(baseManifest.Items.Concat(plan.NewItems.Where(i => !baseManifest.Items.Contains(i))));
        var before = Reference(catalogue, train.Select(r => r.ItemId));
        var after = Reference(catalogue, stream.Skip(driftAt).Select(r => r.ItemId));
        Console.WriteLine();
        Console.WriteLine($"{"phase / model",-28} {"users",6}  {"tail share served / unsteered",30}  {"gini@10 served / unsteered",27}  {"ndcg@10 next event served / unsteered",38}");
        Print("before drift, (a)", modelDirectory, NextEvents(train, stream, 0, driftAt), before, catalogue, steering);
        foreach (var (name, directory, _) in models)
            Print($"after refit point, {name}", directory, NextEvents(train, stream, refitAt, stream.Count), after, catalogue, steering);
        return 0;
    }

    private static RetrainerOptions Refit(Args opts, int seed, SasRecFineTune sasRec, bool refitSae) => new()
    {
        SasRecFineTune = sasRec,
        RefitSae = refitSae,
        // Any item the model lacks with NewItemMinCount live weight enters (d); the share test is the Retrainer's trigger.
        NewItemsShare = 1e-9,
        SasRecEpochs = opts.Int("sasrec-epochs", 3),
        SasRecTimeBudget = TimeSpan.FromMinutes(opts.Int("sasrec-budget-minutes", 10)),
        SaeEpochs = opts.Int("refit-sae-epochs", 3),
        AnalysisPrefixes = opts.Int("analysis-prefixes", 20_000),
        NewItemMinCount = opts.Double("new-item-min-count", 5),
        Seed = seed,
        // Measure every variant; the bounds would gate, not inform.
        MaxFvu = 10, MaxNdcgDrop = 1, RequireGiniReduction = false, MaxNdcgDropVsServing = 1, MaxGiniRiseVsServing = 1, MinValidationUsers = 1,
    };

    /// <summary>The demo's split: each user's latest share held out, users interleaved by their progress through it.</summary>
    private static (List<Interaction> Train, List<Interaction> Live) SplitLatest(IReadOnlyList<Interaction> rows, double holdout)
    {
        var train = new List<Interaction>();
        var live = new List<(Interaction Row, double Progress, int User)>();
        int index = 0;
        foreach (var user in rows.Select((r, i) => (r, i)).GroupBy(x => x.r.UserId, StringComparer.Ordinal))
        {
            var ordered = user.OrderBy(x => x.r.Timestamp).ThenBy(x => x.i).Select(x => x.r).ToArray();
            int held = ordered.Length < 4 ? 0 : Math.Min(ordered.Length - 3, (int)Math.Ceiling(ordered.Length * holdout));
            train.AddRange(ordered[..^held]);
            var heldOut = ordered[^held..];
            live.AddRange(heldOut.Select((r, k) => (r, (k + 0.5) / heldOut.Length, index)));
            index++;
        }
        return (train, live.OrderBy(x => x.Progress).ThenBy(x => x.User).Select(x => x.Row).ToList());
    }

    private static string FitOnce(List<Interaction> train, string work, Args opts, int seed)
    {
        var data = SequenceDataset.FromInteractions(train);
        int epochs = opts.Int("epochs", 20), saeEpochs = opts.Int("sae-epochs", 10);
        var defaults = new FitOptions();
        var fit = defaults with
        {
            Seed = seed,
            SasRec = defaults.SasRec with { MaxEpochs = epochs },
            Sae = defaults.Sae with { MaxEpochs = saeEpochs },
            AnalysisPrefixes = 20_000,
        };
        // The whole recipe is in the key (as the demo's cache): a model fitted with other defaults is not reused.
        var recipe = fit.RecipeHash();
        var directory = Path.Combine(work, "models", $"{data.Fingerprint[..16]}-e{epochs}-s{saeEpochs}-seed{seed}-{recipe}");
        try
        {
            if (ModelDirectory.Verify(directory).Analysis is not null) return directory;
        }
        catch (ModelFormatException)
        {
            // Not fitted yet.
        }
        var clock = Stopwatch.StartNew();
        PopSteerFitter.Fit(data, directory, fit);
        Console.WriteLine($"fitted {directory} in {clock.Elapsed.TotalSeconds:0} s");
        return directory;
    }

    private static Dictionary<string, List<SequenceEntry>> Histories(List<Interaction> train, IReadOnlyList<Interaction> stream, int upTo, DateTimeOffset start)
    {
        var histories = new Dictionary<string, List<SequenceEntry>>(StringComparer.Ordinal);
        int t = 0;
        foreach (var r in train)
            Entries(histories, r.UserId).Add(new SequenceEntry(r.ItemId, start.AddSeconds(-train.Count + t++)));
        for (int i = 0; i < upTo; i++)
            Entries(histories, stream[i].UserId).Add(new SequenceEntry(stream[i].ItemId, start.AddSeconds(i)));
        return histories;
    }

    private static List<SequenceEntry> Entries(Dictionary<string, List<SequenceEntry>> histories, string user) =>
        histories.TryGetValue(user, out var list) ? list : histories[user] = [];

    /// <summary>Every user's first live event in [from, to), with their history (training, then live) before it.</summary>
    private static List<(string[] History, string Target)> NextEvents(List<Interaction> train, IReadOnlyList<Interaction> stream, int from, int to)
    {
        var histories = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var r in train) History(histories, r.UserId).Add(r.ItemId);
        for (int i = 0; i < from; i++) History(histories, stream[i].UserId).Add(stream[i].ItemId);
        var cases = new List<(string[], string)>();
        var done = new HashSet<string>(StringComparer.Ordinal);
        for (int i = from; i < to; i++)
            if (done.Add(stream[i].UserId)) cases.Add((History(histories, stream[i].UserId).ToArray(), stream[i].ItemId));
        return cases;
    }

    private static List<string> History(Dictionary<string, List<string>> histories, string user) =>
        histories.TryGetValue(user, out var list) ? list : histories[user] = [];

    private static PopularityGroups Reference(ItemVocabulary catalogue, IEnumerable<string> taken)
    {
        var counts = new long[catalogue.Count + 1];
        foreach (var item in taken)
            if (catalogue.TryGetInternal(item, out var id)) counts[id]++;
        return PopularityGroups.FromCounts(counts);
    }

    private static void Print(string label, string directory, List<(string[] History, string Target)> cases, PopularityGroups reference, ItemVocabulary catalogue, RefitSteering steering)
    {
        using var model = PopSteerModel.Load(directory);
        int neurons = Math.Min(steering.Neurons ?? model.SaeWidth, model.SaeWidth);
        var histories = new List<int[]>();
        var targets = new List<string>();
        foreach (var (history, target) in cases)
        {
            var known = history.Select(i => model.Items.TryGetInternal(i, out var id) ? id : 0).Where(i => i > 0).TakeLast(model.MaxLength).ToArray();
            if (known.Length == 0) continue; // the Scorer's fallback: not scored here
            histories.Add(known);
            targets.Add(target);
        }
        var served = Score(model, model.Recommend(histories, ScoringMethod.PopSteer, model.PlanFor(steering.Alpha, neurons), 10), targets, cases.Count, reference, catalogue);
        var unsteered = Score(model, model.Recommend(histories, ScoringMethod.SasRec, null, 10), targets, cases.Count, reference, catalogue);
        // Steering's lift, paired by user (the same history steered and not): mean and 2 standard errors.
        var lift = served.Tails.Zip(unsteered.Tails, (a, b) => a - b).ToArray();
        double mean = lift.Length == 0 ? double.NaN : lift.Average();
        double se = lift.Length < 2 ? double.NaN : Math.Sqrt(lift.Sum(d => (d - mean) * (d - mean)) / (lift.Length - 1) / lift.Length);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{label,-40} {cases.Count,6}  {served.Tail,12:0.000} / {unsteered.Tail:0.000} (lift {mean:+0.000;-0.000;0.000} +- {2 * se:0.000})  {served.Gini,12:0.000} / {unsteered.Gini:0.000}  {served.Ndcg,18:0.0000} / {unsteered.Ndcg:0.0000}"));
    }

    /// <summary>Lists in the catalogue's ids, then the one metrics path (<see cref="RankingEvaluator"/>); users without a list are misses.</summary>
    private static (double Tail, double[] Tails, double Gini, double Ndcg) Score(PopSteerModel model, RankedItem[][] lists, List<string> targets, int users, PopularityGroups reference, ItemVocabulary catalogue)
    {
        int Id(string item) => catalogue.TryGetInternal(item, out var id) ? id : 0;
        var mapped = lists.Select(l => l.Select(r => Id(model.Items.ToExternal(r.Item))).Where(i => i > 0).ToArray()).ToArray();
        var m = RankingEvaluator.Evaluate(mapped, targets.Select(Id).ToArray(), reference);
        var tails = mapped.Select(l => l.Count(i => reference[i] == PopularityGroup.Tail) / (double)Math.Max(1, l.Length)).ToArray();
        return (tails.Length == 0 ? double.NaN : tails.Average(), tails, m.Gini, m.Ndcg * lists.Length / Math.Max(1, users));
    }
}
