using PopSteer.Core.Data;
using PopSteer.Core.Model;
using PopSteer.Core.Scoring;
using PopSteer.Core.Training;
using static TorchSharp.torch;

namespace PopSteer.Core.Tests;

public class SasRecTests
{
    private static SasRecConfig Small(int items, int maxLength = 10) => new()
    {
        ItemCount = items, Dim = 32, Blocks = 2, Heads = 2, FeedForward = 64, MaxLength = maxLength, Dropout = 0.1, AttentionDropout = 0.1,
    };

    [Fact]
    public void Each_window_position_is_exactly_the_representation_of_its_prefix()
    {
        // The reason one forward per window may replace one forward per prefix (eval mode, no dropout).
        random.manual_seed(5);
        using var model = new SasRec(Small(20));
        model.eval();
        int[] window = [3, 7, 1, 19, 4, 4, 12];
        using var _ = no_grad();
        using var all = model.forward(tensor(window.Select(i => (long)i).ToArray(), [1, window.Length]));
        for (int t = 1; t <= window.Length; t++)
        {
            var (items, lengths) = HistoryBatch.Create([window[..t]], 10, 20, CPU);
            using (items)
            using (lengths)
            using (var prefix = model.UserVectors(items, lengths))
            using (var row = all[0, t - 1])
                Assert.True(prefix[0].allclose(row, rtol: 1e-4, atol: 1e-5), $"prefix of length {t} differs from window position {t - 1}");
        }
    }

    [Fact]
    public void Windows_cover_every_training_target_once_with_enough_context()
    {
        var sequences = new[] { Enumerable.Range(1, 130).ToArray(), new[] { 1, 2, 3 }, new[] { 5 }, Enumerable.Range(1, 51).ToArray() };
        foreach (int stride in new[] { 1, 25, 50 })
        {
            var plan = TrainingWindows.Plan(sequences, maxLength: 50, stride);
            var covered = new Dictionary<(int, int), int>();
            foreach (var w in plan.Items)
            {
                Assert.True(w.Start >= 0 && w.Length <= 50 && w.Start + w.Length < sequences[w.User].Length);
                for (int p = w.FirstScored; p < w.Length; p++)
                {
                    int target = w.Start + p + 1;
                    covered[(w.User, target)] = covered.GetValueOrDefault((w.User, target)) + 1;
                    Assert.True(p + 1 >= Math.Min(target, 50 - stride + 1), $"target {target} sees {p + 1} items with stride {stride}");
                }
            }
            Assert.Equal(129 + 2 + 0 + 50, covered.Count);
            Assert.All(covered.Values, c => Assert.Equal(1, c));
            Assert.Equal(181, plan.Targets);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => TrainingWindows.Plan(sequences, 50, 51));
    }

    [Fact]
    public void SasRec_learns_a_deterministic_next_item_pattern()
    {
        // 20 items on a cycle: after i always comes i % 20 + 1. Every user walks it from a random start.
        var rng = new Random(9);
        var rows = new List<Interaction>();
        for (int u = 0; u < 60; u++)
        {
            int item = rng.Next(1, 21);
            for (int t = 0; t < 12; t++)
            {
                rows.Add(new Interaction($"u{u}", $"i{item}", t));
                item = item % 20 + 1;
            }
        }
        var data = SequenceDataset.FromInteractions(rows);
        var split = LeaveOneOutSplit.Create(data, maxLength: 10);
        random.manual_seed(9);
        using var model = new SasRec(Small(data.Items.Count));
        var result = SasRecTrainer.Train(model, split, new SasRecTrainingOptions { BatchSize = 128, MaxEpochs = 40, Patience = 40, LearningRate = 5e-3 });
        double hit = Hit10(model, split.Test);
        Assert.True(hit > 0.9, $"test Hit@10 {hit}, valid NDCG@10 {result.BestMetric} after {result.EpochsRun} epochs");
        Assert.True(result.BestMetric > 0.5);
    }

    [Fact]
    public void Cancelling_keeps_the_best_checkpoint_and_returns()
    {
        var rows = SyntheticDataGenerator.Generate(new SyntheticDataOptions(50, 40, 800, Seed: 3));
        var split = LeaveOneOutSplit.Create(SequenceDataset.FromInteractions(rows), 10);
        random.manual_seed(1);
        using var model = new SasRec(Small(40));
        using var cts = new CancellationTokenSource();
        var progress = new CancelAfter(2, cts);
        var result = SasRecTrainer.Train(model, split, new SasRecTrainingOptions { BatchSize = 64, MaxEpochs = 50 }, progress: progress, cancellationToken: cts.Token);
        Assert.True(result.Cancelled);
        Assert.Equal(2, result.EpochsRun);
        Assert.Equal(result.BestMetric, SasRecTrainer.ValidationNdcg(model, split.Validation, 256, CPU), 6);
    }

    private sealed class CancelAfter(int epochs, CancellationTokenSource cts) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            if (value.Epoch >= epochs) cts.Cancel();
        }
    }

    private static double Hit10(SasRec model, IReadOnlyList<EvaluationCase> cases)
    {
        model.eval();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var (items, lengths) = HistoryBatch.Create(cases.Select(c => c.History).ToArray(), model.Config.MaxLength, model.Config.ItemCount, CPU);
        var scores = model.UserVectors(items, lengths).matmul(model.ItemEmbeddings.t());
        scores.select(1, 0).fill_(float.NegativeInfinity);
        var top = scores.topk(10, dim: 1).indexes.data<long>().ToArray();
        return cases.Select((c, b) => top.Skip(b * 10).Take(10).Contains(c.Target) ? 1.0 : 0.0).Average();
    }
}
