using PopSteer.Core.Steering;

namespace PopSteer.Core.Tests;

public class SteeringPlanTests
{
    [Fact]
    public void Cohens_d_matches_hand_computed_values()
    {
        // (3 - 1) / sqrt((1 + 1) / 2) = 2
        Assert.Equal(2.0, NeuronStats.CohensD(3, 1, 1, 1), 12);
        // (1 - 3) / sqrt((4 + 0) / 2) = -2 / sqrt(2) = -1.41421356...
        Assert.Equal(-Math.Sqrt(2), NeuronStats.CohensD(1, 3, 2, 0), 12);
        // (0.5 - 0.2) / sqrt((0.09 + 0.16) / 2) = 0.3 / 0.35355339 = 0.84852814
        Assert.Equal(0.848528137, NeuronStats.CohensD(0.5, 0.2, 0.3, 0.4), 8);
        // Constant and equal in both groups: no evidence, d = 0; constant but different: infinite (skipped by steering).
        Assert.Equal(0.0, NeuronStats.CohensD(1, 1, 0, 0));
        Assert.Equal(double.PositiveInfinity, NeuronStats.CohensD(2, 1, 0, 0));
    }

    [Fact]
    public void Moments_become_stats_with_d_per_neuron()
    {
        var stats = NeuronStats.FromMoments([3, 1], [1, 3], [1, 2], [1, 0]);
        Assert.Equal(2, stats.Width);
        Assert.Equal(2f, stats.CohenD[0], 6);
        Assert.Equal((float)-Math.Sqrt(2), stats.CohenD[1], 6);
        Assert.Equal(new[] { 0, 1 }, stats.ByStrength().ToArray());
    }

    /// <summary>
    /// Six neurons with d = [2, -1, 0.5, NaN, 0, -4]. Candidates (finite, non-zero): 0, 1, 2, 5; |d| = 2, 1, 0.5, 4.
    /// m = 0.5 over all candidates. With N = 3 the selection is 5 (|4|), 0 (|2|), 1 (|1|); M = 4.
    /// w_5 = a (4 - 0.5)/3.5 = a; w_0 = a (2 - 0.5)/3.5 = 3a/7; w_1 = a (1 - 0.5)/3.5 = a/7.
    /// Opposite sigma: tail neurons (5, 1) use sigma_head, the head neuron (0) uses sigma_tail.
    /// </summary>
    private static NeuronStats HandStats() => new(
        muHead: new float[6], muTail: new float[6],
        sigmaHead: [10, 20, 30, 40, 50, 60],
        sigmaTail: [1, 2, 3, 4, 5, 6],
        cohenD: [2, -1, 0.5f, float.NaN, 0, -4]);

    [Fact]
    public void Shift_follows_the_weights_and_signs_of_section_6()
    {
        var plan = SteeringPlan.Create(HandStats(), alpha: 1.4, neurons: 3);
        Assert.Equal(new[] { 5, 0, 1 }, plan.Selected);
        Assert.Equal(-(3 * 1.4 / 7) * 1, plan.Shift[0], 5);   // head neuron falls by w * sigma_tail
        Assert.Equal(+(1.4 / 7) * 20, plan.Shift[1], 5);      // tail neuron rises by w * sigma_head
        Assert.Equal(0f, plan.Shift[2]);                      // not selected
        Assert.Equal(0f, plan.Shift[3]);                      // NaN d: never a candidate
        Assert.Equal(0f, plan.Shift[4]);                      // d = 0: never a candidate
        Assert.Equal(+1.4 * 60, plan.Shift[5], 4);            // strongest tail neuron: w = alpha
    }

    [Fact]
    public void Favoured_sigma_uses_the_neurons_own_group()
    {
        var plan = SteeringPlan.Create(HandStats(), alpha: 1.4, neurons: 3, SigmaSource.Favoured);
        Assert.Equal(-(3 * 1.4 / 7) * 10, plan.Shift[0], 5);  // head neuron: sigma_head
        Assert.Equal(+(1.4 / 7) * 2, plan.Shift[1], 5);       // tail neuron: sigma_tail
    }

    [Fact]
    public void All_neurons_include_the_weakest_candidate_at_weight_zero()
    {
        var plan = SteeringPlan.Create(HandStats(), alpha: 2, neurons: 6);
        Assert.Equal(4, plan.Selected.Count);                 // only 4 candidates exist
        Assert.Equal(0f, plan.Shift[2]);                      // |d| = m gives w = 0
        Assert.Equal(2 * 60f, plan.Shift[5], 4);
    }

    [Fact]
    public void Equal_strengths_get_half_alpha()
    {
        var stats = new NeuronStats(new float[2], new float[2], [3, 3], [5, 5], [1, -1]);
        var plan = SteeringPlan.Create(stats, alpha: 2, neurons: 2);
        Assert.Equal(-1 * 5f, plan.Shift[0], 6);              // M == m: w = alpha / 2 = 1
        Assert.Equal(+1 * 3f, plan.Shift[1], 6);
    }

    [Fact]
    public void Alpha_zero_and_zero_neurons_change_nothing()
    {
        Assert.True(SteeringPlan.Create(HandStats(), 0, 6).IsIdentity);
        Assert.True(SteeringPlan.Create(HandStats(), 3, 0).IsIdentity);
        Assert.False(SteeringPlan.Create(HandStats(), 3, 1).IsIdentity);
    }

    [Theory]
    [InlineData(-0.1, 3, "alpha")]
    [InlineData(double.NaN, 3, "alpha")]
    [InlineData(double.PositiveInfinity, 3, "alpha")]
    [InlineData(1.0, -1, "neurons")]
    [InlineData(1.0, 7, "neurons")]
    public void Bad_knobs_are_refused_with_a_clear_message(double alpha, int neurons, string param)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => SteeringPlan.Create(HandStats(), alpha, neurons));
        Assert.Equal(param, ex.ParamName);
        Assert.Contains(param == "alpha" ? "alpha" : "0..6", ex.Message);
    }
}
