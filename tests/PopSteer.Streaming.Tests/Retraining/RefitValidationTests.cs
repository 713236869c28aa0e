using PopSteer.Core.Metrics;
using PopSteer.Retrainer;

namespace PopSteer.Streaming.Tests.Retraining;

/// <summary>The publication rule on hand-made validation numbers: every bound is checked and named.</summary>
public sealed class RefitValidationTests
{
    private static readonly RetrainerOptions Bounds = new() { MaxFvu = 0.3, MaxNdcgDrop = 0.1, RequireGiniReduction = true };

    private static RefitValidation Numbers(double fvu, double ndcgSasRec, double ndcgPopSteer, double giniSasRec, double giniPopSteer) =>
        new(100, fvu, new MetricSet { Ndcg = ndcgSasRec, Gini = giniSasRec }, new MetricSet { Ndcg = ndcgPopSteer, Gini = giniPopSteer }, 1.5, 64);

    [Fact]
    public void A_refit_within_every_bound_passes()
    {
        var v = Numbers(fvu: 0.2, ndcgSasRec: 0.10, ndcgPopSteer: 0.091, giniSasRec: 0.8, giniPopSteer: 0.7);
        Assert.Equal(0.09, v.NdcgDrop, 12);
        Assert.Empty(ModelRefitter.Check(v, Bounds));
    }

    [Fact]
    public void Each_missed_bound_is_reported_naming_its_setting()
    {
        Assert.Contains("Retrainer:MaxFvu", Assert.Single(ModelRefitter.Check(Numbers(0.31, 0.1, 0.1, 0.8, 0.7), Bounds)));
        Assert.Contains("Retrainer:MaxNdcgDrop", Assert.Single(ModelRefitter.Check(Numbers(0.2, 0.1, 0.089, 0.8, 0.7), Bounds)));
        // Equal Gini is not a reduction.
        Assert.Contains("Retrainer:RequireGiniReduction", Assert.Single(ModelRefitter.Check(Numbers(0.2, 0.1, 0.1, 0.8, 0.8), Bounds)));
        Assert.Empty(ModelRefitter.Check(Numbers(0.2, 0.1, 0.1, 0.8, 0.8), new RetrainerOptions { MaxFvu = 0.3, MaxNdcgDrop = 0.1, RequireGiniReduction = false }));
        // A NaN FVU (no variance among held-out users) is never within the bound.
        Assert.Contains("Retrainer:MaxFvu", Assert.Single(ModelRefitter.Check(Numbers(double.NaN, 0.1, 0.1, 0.8, 0.7), Bounds)));
        Assert.Equal(3, ModelRefitter.Check(Numbers(0.9, 0.1, 0.01, 0.5, 0.6), Bounds).Count);
    }

    [Fact]
    public void The_fvu_bound_is_relative_to_the_serving_sae_with_max_fvu_as_its_floor()
    {
        var bounds = new RetrainerOptions { MaxFvu = 0.3, MaxFvuRiseVsServing = 0.1, MaxNdcgDrop = 0.1, RequireGiniReduction = true };
        RefitValidation At(double fvu, double serving) => Numbers(fvu, 0.1, 0.1, 0.8, 0.7) with { ServingFvu = serving };
        // A serving SAE above the floor: within 10% of it passes, beyond it is refused, naming both keys.
        Assert.Empty(ModelRefitter.Check(At(0.77, 0.7), bounds));
        var problem = Assert.Single(ModelRefitter.Check(At(0.78, 0.7), bounds));
        Assert.Contains("Retrainer:MaxFvu ", problem);
        Assert.Contains("Retrainer:MaxFvuRiseVsServing", problem);
        // A good serving SAE: the absolute floor still admits a refit up to MaxFvu.
        Assert.Empty(ModelRefitter.Check(At(0.29, 0.1), bounds));
        Assert.Single(ModelRefitter.Check(At(0.31, 0.1), bounds));
        // No serving FVU (it knew none of the held-out histories): the floor alone.
        Assert.Empty(ModelRefitter.Check(At(0.29, double.NaN), bounds));
        Assert.Single(ModelRefitter.Check(At(0.31, double.NaN), bounds));
        Assert.Single(ModelRefitter.Check(At(double.NaN, 0.7), bounds));
    }
}
