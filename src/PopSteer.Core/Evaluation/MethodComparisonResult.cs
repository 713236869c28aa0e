using PopSteer.Core.Metrics;
using PopSteer.Core.Statistics;

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
    /// <summary>An untuned reference row (MostPop, Last item), not a method being compared.</summary>
    public bool IsReference { get; init; }

    /// <summary>Per-user NDCG@K on the test split, in test-case order (what the paired tests compare).</summary>
    public IReadOnlyList<double> TestUserNdcg { get; init; } = [];

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
    /// <summary>Every method against SASRec and against PopSteer on the test users (method minus reference).</summary>
    public IReadOnlyList<PairedComparison> Pairs { get; init; } = [];

    /// <summary>Each tuned method's validation Pareto front and the area it dominates.</summary>
    public IReadOnlyList<MethodFront> Fronts { get; init; } = [];

    /// <summary>Bootstrap interval of the validation gain of the selection rule's winner minus the runner-up's; null without a winner.</summary>
    public ConfidenceInterval? ValidationLead { get; init; }

    /// <summary>The verdict, one sentence per line, shared by every output.</summary>
    public IReadOnlyList<string> Verdict { get; init; } = [];

    public int BootstrapResamples { get; init; }
    public int Seed { get; init; }

    /// <summary>The comparison of <paramref name="method"/> against <paramref name="against"/>; null if not computed.</summary>
    public PairedComparison? Pair(string method, string against) => Pairs.FirstOrDefault(p => p.Method == method && p.Against == against);

    public MethodOutcome this[string method] =>
        Methods.FirstOrDefault(m => m.Method == method) ?? throw new KeyNotFoundException($"No method named {method} in this comparison.");
}
