using PopSteer.Core.Metrics;

namespace PopSteer.Retrainer;

public enum RefitOutcome
{
    /// <summary>Validated and published: Scorers swap to it.</summary>
    Published,
    /// <summary>Built but failed validation: logged, kept on disk for inspection, never published.</summary>
    Rejected,
    /// <summary>Could not be built (too few users, no head or tail in the live counts, an error).</summary>
    Failed,
}

/// <summary>
/// The held-out check of a refit: the last item of each recent user, predicted from the items before it.
/// PopSteer is scored at the steering the Scorers use now.
/// </summary>
public sealed record RefitValidation(int Users, double Fvu, MetricSet SasRec, MetricSet PopSteer, double Alpha, int Neurons)
{
    /// <summary>Relative NDCG@K lost by steering: 1 - NDCG(PopSteer) / NDCG(SASRec) (0 when SASRec scores 0).</summary>
    public double NdcgDrop => SasRec.Ndcg > 0 ? 1 - PopSteer.Ndcg / SasRec.Ndcg : 0;

    /// <summary>The version serving now, PopSteer at the same steering on the same users (misses where it lacks the target).</summary>
    public MetricSet Serving { get; init; } = new() { Gini = double.NaN };

    /// <summary>The serving SAE's FVU on its own SASRec's vectors of the same held-out histories (NaN when it knows none of them).</summary>
    public double ServingFvu { get; init; } = double.NaN;

    /// <summary>Relative NDCG@K this refit would lose against what serves now: 1 - NDCG(refit) / NDCG(serving) (0 when serving scores 0).</summary>
    public double ServingNdcgDrop => Serving.Ndcg > 0 ? 1 - PopSteer.Ndcg / Serving.Ndcg : 0;
}

public sealed record RefitResult(
    RefitOutcome Outcome,
    string BaseVersion,
    string? Directory,
    RefitValidation? Validation,
    IReadOnlyList<string> Problems)
{
    /// <summary>The registry version when published; else null.</summary>
    public string? PublishedVersion { get; init; }

    public static RefitResult Failed(string baseVersion, string problem) => new(RefitOutcome.Failed, baseVersion, null, null, [problem]);
}

/// <summary>The steering the Scorers apply now: what validation scores PopSteer with.</summary>
public sealed record RefitSteering(double Alpha, int? Neurons);
