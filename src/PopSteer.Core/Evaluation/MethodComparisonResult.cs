using PopSteer.Core.Metrics;

namespace PopSteer.Core.Evaluation;

/// <summary>One evaluated grid point on the validation split (the points of the trade-off plot).</summary>
public sealed record GridPointResult(
    string Method,
    string Label,
    IReadOnlyDictionary<string, double> Parameters,
    MetricSet Validation,
    double Gain,
    double NdcgDrop,
    bool Admissible);

/// <summary>
/// A method's outcome: the setting chosen on validation (null settings for SASRec and SAE, which have none), its
/// validation and test metrics, and the wall time of scoring plus re-ranking per 1,000 test users.
/// <see cref="Admissible"/> is false when no grid point met the NDCG bound and the least-damaging one is shown.
/// </summary>
public sealed record MethodOutcome(
    string Method,
    IReadOnlyDictionary<string, double>? Parameters,
    MetricSet Validation,
    MetricSet Test,
    double MsPer1000Users,
    double ValidationGain,
    bool Admissible)
{
    /// <summary>PopSteer's alpha, when this is PopSteer.</summary>
    public double? Alpha => Parameters is not null && Method == MethodComparison.PopSteer && Parameters.TryGetValue("alpha", out var a) ? a : null;

    /// <summary>PopSteer's N, when this is PopSteer.</summary>
    public int? Neurons => Parameters is not null && Method == MethodComparison.PopSteer && Parameters.TryGetValue("neurons", out var n) ? (int)n : null;
}

public sealed record MethodComparisonResult(
    int ValidationUsers,
    int TestUsers,
    IReadOnlyList<MethodOutcome> Methods,
    IReadOnlyList<GridPointResult> Grid)
{
    public MethodOutcome this[string method] =>
        Methods.FirstOrDefault(m => m.Method == method) ?? throw new KeyNotFoundException($"No method named {method} in this comparison.");
}
