using PopSteer.Core.Data;
using PopSteer.Core.Evaluation;
using PopSteer.Core.Model;
using PopSteer.Core.Scoring;
using PopSteer.Core.Training;
using static TorchSharp.torch;

namespace PopSteer.Core.Tests;

/// <summary>Training that reaches the method's numbers: the stopping rule, exact contexts, references, curves, ETA.</summary>
public sealed class FidelityTests : IDisposable
{
    private readonly TempDirectory _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private static double RepeatRate(IReadOnlyList<Interaction> rows)
    {
        long repeats = 0, pairs = 0;
        for (int i = 1; i < rows.Count; i++)
        {
            if (rows[i].UserId != rows[i - 1].UserId) continue;
            pairs++;
            if (rows[i].ItemId == rows[i - 1].ItemId) repeats++;
        }
        return (double)repeats / pairs;
    }

    [Fact]
    public void Generator_repeats_the_previous_item_at_about_the_requested_rate_and_is_seeded()
    {
        var plain = new SyntheticDataOptions(300, 200, 12_000, Seed: 9);
        double baseRate = RepeatRate(SyntheticDataGenerator.Generate(plain));
        Assert.True(baseRate < 0.1, $"without the option the data repeats {baseRate:P1} of the time");

        var heavy = plain with { RepeatPrevious = 0.75 };
        var a = SyntheticDataGenerator.Generate(heavy);
        // A repeat, or a fresh draw that happens to land on the same item.
        double rate = RepeatRate(a);
        Assert.InRange(rate, 0.75 - 0.02, 0.75 + 0.25 * baseRate + 0.02);
        Assert.Equal(a, SyntheticDataGenerator.Generate(heavy));
        Assert.NotEqual(a, SyntheticDataGenerator.Generate(heavy with { Seed = 10 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticDataGenerator.Generate(plain with { RepeatPrevious = 1.0 }));
    }

    [Fact]
    public void The_stop_rule_does_not_keep_an_untrained_first_epoch_when_the_curve_climbs_later()
    {
        // The shape seen on repeat-heavy data: high at epoch 1 (the tied table repeats the last item), a dip, then a slow climb.
        double[] curve = [0.58, 0.50, 0.51, 0.52, .. Enumerable.Range(5, 60).Select(e => 0.52 + 0.11 * (1 - Math.Exp(-(e - 4) / 15.0)))];
        // The trainer's decisions, replayed on the curve (the cool-down's lower rate is not modelled: only when it starts).
        static (int Kept, int Cooldown) Replay(SasRecTrainingOptions o, double[] curve)
        {
            int best = 0, cooldown = 0;
            int? end = null;
            for (int epoch = 1; epoch <= curve.Length; epoch++)
            {
                if (best == 0 || curve[epoch - 1] > curve[best - 1]) best = epoch;
                if (end is null && o.CoolsDownAfter(epoch, best)) (cooldown, end) = (epoch, Math.Min(o.MaxEpochs, epoch + o.CooldownEpochs));
                if (end is int last ? epoch >= last : o.StopsAfter(epoch, best)) break;
            }
            return (best, cooldown);
        }
        var old = new SasRecTrainingOptions { MinEpochs = 0, MaxEpochs = 200, CooldownEpochs = 0, WarmupEpochs = 0 };
        Assert.Equal(1, Replay(old, curve).Kept); // the old rule: patience 10 alone
        Assert.Equal(11, Replay(old with { CooldownEpochs = 10 }, curve).Cooldown); // a cool-down on patience alone starts in the dip
        var (kept, cooldownStart) = Replay(new SasRecTrainingOptions(), curve);
        Assert.True(curve[kept - 1] > curve[0], $"kept epoch {kept} ({curve[kept - 1]:F3}) is no better than epoch 1");
        Assert.Equal(30, cooldownStart); // the floor holds the constant rate past the dip
    }

    [Fact]
    public void Training_on_repeat_heavy_data_runs_past_a_good_first_epoch_and_keeps_a_better_later_one()
    {
        var rows = SyntheticDataGenerator.Generate(new SyntheticDataOptions(150, 40, 4500, Seed: 4) { RepeatPrevious = 0.8, ClusterSize = 8 });
        var data = SequenceDataset.FromInteractions(rows);
        var split = LeaveOneOutSplit.Create(data, 10);
        random.manual_seed(4);
        using var model = new SasRec(new SasRecConfig { ItemCount = data.Items.Count, Dim = 16, Blocks = 1, Heads = 2, FeedForward = 32, MaxLength = 10, Dropout = 0.2, AttentionDropout = 0.2 });
        var options = new SasRecTrainingOptions { BatchSize = 256, Patience = 1, MinEpochs = 8, MaxEpochs = 8 };
        var result = SasRecTrainer.Train(model, split, options);
        Assert.Equal(8, result.EpochsRun); // patience 1 alone would have stopped at the first epoch without a gain
        Assert.True(result.BestEpoch > 1 && result.BestMetric > result.History[0].Metric, $"best epoch {result.BestEpoch}");
    }

    [Fact]
    public void Every_long_users_last_target_and_every_sae_input_sees_exactly_the_context_scoring_uses()
    {
        const int L = 10;
        var rng = new Random(2);
        var sequences = new[] { 37, 11, 12, 4, 25, 2 }.Select(n => Enumerable.Range(0, n).Select(_ => rng.Next(1, 30)).ToArray()).ToArray();
        random.manual_seed(6);
        using var model = new SasRec(new SasRecConfig { ItemCount = 30, Dim = 16, Blocks = 2, Heads = 2, FeedForward = 32, MaxLength = L, Dropout = 0.1, AttentionDropout = 0.1 });
        model.eval();
        var plan = TrainingWindows.Plan(sequences, L, new FitOptions { MaxLength = L }.WindowStride);
        using var _ = no_grad();
        foreach (var (s, u) in sequences.Select((s, u) => (s, u)).Where(x => x.s.Length - 1 > L))
        {
            int last = s.Length - 1;
            var window = plan.Items.Single(w => w.User == u && w.Start + w.Length == last);
            Assert.Equal((last - L, L), (window.Start, window.Length)); // the last target: L items of context, at position L - 1
        }

        // SAE inputs: one vector per training target, each the scoring-time representation of its last <= L items.
        using var vectors = SaeInputs.TrainingVectors(model, sequences, 1, CPU, windowsPerBatch: 3);
        int row = 0;
        var rows = new List<(int User, int Target)>();
        foreach (var w in TrainingWindows.Plan(sequences, L, 1).Items)
            for (int p = w.FirstScored; p < w.Length; p++) rows.Add((w.User, w.Start + p + 1));
        Assert.Equal(sequences.Sum(s => Math.Max(0, s.Length - 1)), vectors.shape[0]);
        foreach (var (user, target) in rows)
        {
            var history = sequences[user][Math.Max(0, target - L)..target];
            var (items, lengths) = HistoryBatch.Create([history], L, 30, CPU);
            using (items)
            using (lengths)
            using (var expected = model.UserVectors(items, lengths))
            using (var actual = vectors[row++])
                Assert.True(expected[0].allclose(actual, rtol: 1e-4, atol: 1e-5), $"user {user} target {target}");
        }
    }

    [Fact]
    public void MostPop_and_last_item_give_the_expected_lists()
    {
        // Training-target counts of items 1..5: item 2 and 4 tie at 9 (lower id first), then 1, 3, 5.
        var groups = PopularityGroups.FromCounts([0, 5, 9, 1, 9, 0]);
        var cases = new[] { new EvaluationCase(0, [1, 3, 1, 5], 2), new EvaluationCase(1, [4], 4) };
        Assert.Equal(new[] { new[] { 2, 4, 1 }, [2, 4, 1] }, ReferenceRecommenders.Lists(ReferenceRecommender.MostPop, groups, cases, k: 3));
        // Most recent distinct items first, then the most popular not yet listed.
        Assert.Equal(new[] { new[] { 5, 1, 3, 2 }, [4, 2, 1, 3] }, ReferenceRecommenders.Lists(ReferenceRecommender.LastItem, groups, cases, k: 4));
        // Masking the history leaves only unseen popular items (case 0 has just two left).
        Assert.Equal(new[] { new[] { 2, 4 }, [2, 1, 3] }, ReferenceRecommenders.Lists(ReferenceRecommender.MostPop, groups, cases, k: 3, maskHistory: true));
        var last = ReferenceRecommenders.Evaluate(ReferenceRecommender.LastItem, groups, cases, k: 4);
        Assert.Equal((1 / Math.Log2(5) + 1.0) / 2, last.Ndcg, 10); // target 2 at rank 4, target 4 at rank 1
    }

    [Fact]
    public void Fit_saves_parseable_learning_curves_and_the_sae_eta_counts_the_epochs_left()
    {
        var data = SequenceDataset.FromInteractions(SyntheticDataGenerator.Generate(new SyntheticDataOptions(80, 60, 1600, Seed: 3) { ZipfExponent = 0.7, ClusterSize = 10 }));
        var options = new FitOptions
        {
            Dim = 16, Blocks = 1, Heads = 2, FeedForward = 32, MaxLength = 10, SaeWidthMultiplier = 4, SaeK = 4, AnalysisPrefixes = 200, Seed = 3,
            SasRec = new SasRecTrainingOptions { MaxEpochs = 3, BatchSize = 256 },
            Sae = new SaeTrainingOptions { MaxEpochs = 5, BatchSize = 256, Patience = 2 },
        };
        var dir = _tmp.File("model");
        var report = PopSteerFitter.Fit(data, dir, options);
        var sasRec = LearningCurve.Read(Path.Combine(dir, LearningCurve.SasRecFile));
        var sae = LearningCurve.Read(Path.Combine(dir, LearningCurve.SaeFile));
        Assert.Equal(report.SasRec!.History.Select(h => (h.Epoch, h.Metric)), sasRec.Select(p => (p.Epoch, p.Metric)));
        Assert.Equal(report.Sae!.History.Select(h => (h.Epoch, h.Metric, h.Loss)), sae.Select(p => (p.Epoch, p.Metric, p.Loss)));
        Assert.All(sae, p => Assert.True(p.EpochSeconds > 0 && p.LearningRate > 0));
        Assert.True(sae.Zip(sae.Skip(1)).All(p => p.First.ElapsedSeconds < p.Second.ElapsedSeconds));
        Assert.True(sae[^1].LearningRate < sae[1].LearningRate); // the cosine decay

        // While the SAE still improves, the ETA is the epochs left at the current pace, not the patience (the old bug).
        foreach (var h in report.Sae.History.Where(h => h.Improved))
            Assert.Equal((h.EpochTime * (h.MaxEpochs - h.Epoch)).TotalSeconds, h.Eta!.Value.TotalSeconds, 3);
        Assert.Equal(TimeSpan.Zero, report.Sae.History[^1].Eta);
        Assert.Throws<FileNotFoundException>(() => LearningCurve.Read(Path.Combine(dir, "missing.csv")));
    }
}
