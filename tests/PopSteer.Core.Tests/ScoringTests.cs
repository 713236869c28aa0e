using PopSteer.Core.Scoring;
using PopSteer.Core.Testing;
using static TorchSharp.torch;

namespace PopSteer.Core.Tests;

public sealed class ScoringTests : IDisposable
{
    private readonly TempDirectory _tmp = new();
    private readonly PopSteerModel _model;
    private readonly int[][] _histories = [[1, 2, 3], [4], [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], [30, 29, 28]];

    public ScoringTests()
    {
        TinyModelFactory.Create(_tmp.File("m"), items: 30, seed: 11);
        _model = PopSteerModel.Load(_tmp.File("m"));
    }

    public void Dispose()
    {
        _model.Dispose();
        _tmp.Dispose();
    }

    [Fact]
    public void Alpha_zero_and_zero_neurons_reproduce_the_unsteered_sae_bit_for_bit()
    {
        using var sae = _model.Scores(_histories, ScoringMethod.Sae);
        using var alpha0 = _model.Scores(_histories, ScoringMethod.PopSteer, _model.PlanFor(0, _model.SaeWidth));
        using var n0 = _model.Scores(_histories, ScoringMethod.PopSteer, _model.PlanFor(2.0, 0));
        Assert.Equal(sae.data<float>().ToArray(), alpha0.data<float>().ToArray());
        Assert.Equal(sae.data<float>().ToArray(), n0.data<float>().ToArray());
    }

    [Fact]
    public void Steering_changes_scores_and_sasrec_ignores_the_plan()
    {
        var plan = _model.PlanFor(4.0, _model.SaeWidth);
        Assert.Same(plan, _model.PlanFor(4.0, _model.SaeWidth)); // cached per (alpha, N)
        using var sae = _model.Scores(_histories, ScoringMethod.Sae);
        using var steered = _model.Scores(_histories, ScoringMethod.PopSteer, plan);
        Assert.NotEqual(sae.data<float>().ToArray(), steered.data<float>().ToArray());
        using var a = _model.Scores(_histories, ScoringMethod.SasRec);
        using var b = _model.Scores(_histories, ScoringMethod.SasRec, plan);
        Assert.Equal(a.data<float>().ToArray(), b.data<float>().ToArray());
        Assert.Throws<ArgumentNullException>(() => _model.Scores(_histories, ScoringMethod.PopSteer));

        // The sigma-source option is its own cached plan with its own shift.
        var favoured = _model.PlanFor(4.0, _model.SaeWidth, Steering.SigmaSource.Favoured);
        Assert.Same(favoured, _model.PlanFor(4.0, _model.SaeWidth, Steering.SigmaSource.Favoured));
        Assert.NotEqual(plan.Shift, favoured.Shift);
        using var viaFavoured = _model.Scores(_histories, ScoringMethod.PopSteer, favoured);
        Assert.NotEqual(steered.data<float>().ToArray(), viaFavoured.data<float>().ToArray());
    }

    [Fact]
    public void Scores_are_per_history_and_do_not_depend_on_the_batch()
    {
        using var batch = _model.Scores(_histories, ScoringMethod.SasRec);
        for (int u = 0; u < _histories.Length; u++)
        {
            using var alone = _model.Scores([_histories[u]], ScoringMethod.SasRec);
            var expected = batch[u].data<float>().ToArray();
            var actual = alone[0].data<float>().ToArray();
            for (int i = 1; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 4);
        }
    }

    [Fact]
    public void Only_the_most_recent_max_length_items_count()
    {
        var longHistory = Enumerable.Range(1, 25).ToArray();
        var tail = longHistory[^TinyModelFactory.MaxLength..];
        using var a = _model.Scores([longHistory], ScoringMethod.SasRec);
        using var b = _model.Scores([tail], ScoringMethod.SasRec);
        Assert.Equal(a.data<float>().ToArray(), b.data<float>().ToArray());
    }

    [Fact]
    public void Recommend_returns_the_top_k_without_padding_and_masks_history_on_request()
    {
        var lists = _model.Recommend(_histories, ScoringMethod.SasRec, null, k: 10);
        using var scores = _model.Scores(_histories, ScoringMethod.SasRec);
        for (int u = 0; u < _histories.Length; u++)
        {
            Assert.Equal(10, lists[u].Length);
            Assert.DoesNotContain(lists[u], r => r.Item == 0);
            var row = scores[u].data<float>().ToArray();
            var best = Enumerable.Range(1, _model.Items.Count).OrderByDescending(i => row[i]).Take(10).ToArray();
            Assert.Equal(best, lists[u].Select(r => r.Item).ToArray());
            Assert.True(lists[u].Zip(lists[u].Skip(1)).All(p => p.First.Score >= p.Second.Score));
        }
        var masked = _model.Recommend(_histories, ScoringMethod.SasRec, null, k: 10, excludeSeen: true);
        for (int u = 0; u < _histories.Length; u++)
            Assert.Empty(masked[u].Select(r => r.Item).Intersect(_histories[u]));
        // Asking for more than the catalogue returns every real item once.
        var all = _model.Recommend([[1]], ScoringMethod.SasRec, null, k: 1000);
        Assert.Equal(_model.Items.Count, all[0].Length);
    }

    [Fact]
    public void Bad_histories_are_refused_with_the_offending_entry()
    {
        var ex = Assert.Throws<ArgumentException>(() => _model.Scores([[1], []], ScoringMethod.SasRec));
        Assert.Contains("History 1 is empty", ex.Message);
        var ex2 = Assert.Throws<ArgumentOutOfRangeException>(() => _model.Scores([[1, 31]], ScoringMethod.SasRec));
        Assert.Contains("31", ex2.Message);
    }

    [Fact]
    public void Single_item_pre_activations_cover_every_item()
    {
        using var z = _model.SingleItemPreActivations(batchSize: 7);
        Assert.Equal(new long[] { _model.Items.Count, _model.SaeWidth }, z.shape);
        Assert.Equal(TorchSharp.DeviceType.CPU, z.device_type);
    }
}
