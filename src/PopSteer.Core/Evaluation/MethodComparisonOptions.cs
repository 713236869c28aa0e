namespace PopSteer.Core.Evaluation;

/// <summary>
/// Settings of <see cref="MethodComparison"/>. The grids default to METHOD.md: PopSteer's alpha x N of section 6,
/// each baseline's grid of section 8. Validated by <see cref="Validate"/> before any work starts.
/// </summary>
public sealed record MethodComparisonOptions
{
    /// <summary>List length and metric cutoff.</summary>
    public int K { get; init; } = 10;

    /// <summary>The selection rule's bound on the relative validation NDCG drop.</summary>
    public double MaxNdcgDrop { get; init; } = 0.05;

    /// <summary>Users per model call; also the most score rows in memory at once.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>Seeds the bootstrap's resampling of users (every method is deterministic on its own).</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Bootstrap resamples behind every confidence interval.</summary>
    public int BootstrapResamples { get; init; } = 1000;

    /// <summary>Untuned reference rows (MostPop, Last item), reported beside the methods and tested like them.</summary>
    public IReadOnlyList<IComparisonReference> References { get; init; } = [];

    /// <summary>Timed test passes per method (the median is reported; repeated passes must give identical metrics).</summary>
    public int TimedRuns { get; init; } = 3;

    /// <summary>FA*IR's candidate pool (top by SASRec score; the authors' L = 500). PCT ranks the whole catalogue, as theirs does.</summary>
    public int Candidates { get; init; } = 500;

    /// <summary>The authors' alpha grid (1.0..4.0 step 0.5) extended down to 0.25: an SAE trained to FVU 0.008 is far more
    /// sensitive to a shift than the authors' (on ML-100K alpha 1 already cost 7-11% of validation NDCG at every N), so
    /// without the small values the rule finds no admissible point (docs/core.md).</summary>
    public IReadOnlyList<double> PopSteerAlphas { get; init; } = [0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0];

    /// <summary>PopSteer's N grid; null = {h/8, 2h/8, ..., h} for the model's SAE width h (512..4096 step 512 at h = 4096).</summary>
    public IReadOnlyList<int>? PopSteerNeurons { get; init; }

    public IReadOnlyList<double> IprStrengths { get; init; } = [0.1, 0.3, 0.5, 1.0];

    public IReadOnlyList<double> FairP { get; init; } = [0.3, 0.5, 0.7, 0.9, 0.99];
    public IReadOnlyList<double> FairAlpha { get; init; } = [0.01, 0.05, 0.1];

    public IReadOnlyList<double> PctP { get; init; } = [0.3, 0.5, 0.7, 0.9, 0.99];
    public IReadOnlyList<double> PctLambda { get; init; } = [0, 0.3, 0.5, 0.7, 0.9];

    public IReadOnlyList<double> PmmfLambda { get; init; } = [0.001, 0.01, 0.1, 1, 10];
    public IReadOnlyList<double> PmmfEta { get; init; } = [1e-4, 1e-3, 1e-2];

    public IReadOnlyList<int> NeuronGrid(int saeWidth) =>
        PopSteerNeurons ?? Enumerable.Range(1, 8).Select(i => Math.Max(1, saeWidth * i / 8)).Distinct().ToArray();

    public void Validate()
    {
        if (K < 1) throw new ArgumentOutOfRangeException(nameof(K), K, "K must be at least 1.");
        if (double.IsNaN(MaxNdcgDrop) || MaxNdcgDrop < 0) throw new ArgumentOutOfRangeException(nameof(MaxNdcgDrop), MaxNdcgDrop, "The NDCG drop bound must be >= 0.");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "The batch size must be at least 1.");
        if (TimedRuns < 1) throw new ArgumentOutOfRangeException(nameof(TimedRuns), TimedRuns, "At least one timed test pass is needed.");
        if (BootstrapResamples < 10) throw new ArgumentOutOfRangeException(nameof(BootstrapResamples), BootstrapResamples, "Use at least 10 bootstrap resamples.");
        if (References.Select(r => r.Name).Concat([MethodComparison.SasRec, MethodComparison.Sae, MethodComparison.PopSteer, MethodComparison.Ipr, MethodComparison.Fair, MethodComparison.Pct, MethodComparison.Pmmf])
                .GroupBy(n => n).FirstOrDefault(g => g.Count() > 1) is { } clash)
            throw new ArgumentException($"Two rows would be named \"{clash.Key}\": every reference needs its own name.", nameof(References));
        if (Candidates < K) throw new ArgumentOutOfRangeException(nameof(Candidates), Candidates, $"The candidate pool must hold at least K = {K} items.");
        foreach (var (name, grid) in new (string, int)[] { (nameof(PopSteerAlphas), PopSteerAlphas.Count), (nameof(IprStrengths), IprStrengths.Count),
                     (nameof(FairP), FairP.Count), (nameof(FairAlpha), FairAlpha.Count), (nameof(PctP), PctP.Count), (nameof(PctLambda), PctLambda.Count),
                     (nameof(PmmfLambda), PmmfLambda.Count), (nameof(PmmfEta), PmmfEta.Count) })
            if (grid == 0) throw new ArgumentException($"The {name} grid is empty.", name);
    }
}
