namespace PopSteer.Core.Training;

/// <summary>METHOD.md section 3's optimisation: Adam 1e-3, batch 2048, shuffled, early stop on validation FVU.</summary>
public sealed record SaeTrainingOptions
{
    public double LearningRate { get; init; } = 1e-3;
    public int BatchSize { get; init; } = 2048;
    public int MaxEpochs { get; init; } = 100;
    /// <summary>Stop after this many epochs without a lower validation FVU (METHOD.md gives none; 5 here).</summary>
    public int Patience { get; init; } = 5;
    /// <summary>Weight of L_aux in FVU + AuxWeight * L_aux (1/2 in the method).</summary>
    public double AuxWeight { get; init; } = 0.5;
    public int Seed { get; init; } = 42;

    public void Validate()
    {
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "must be a positive number");
        if (BatchSize < 2) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "must be at least 2 (FVU needs a batch variance)");
        if (MaxEpochs < 1) throw new ArgumentOutOfRangeException(nameof(MaxEpochs), MaxEpochs, "must be positive");
        if (Patience < 1) throw new ArgumentOutOfRangeException(nameof(Patience), Patience, "must be positive");
        if (AuxWeight < 0 || double.IsNaN(AuxWeight)) throw new ArgumentOutOfRangeException(nameof(AuxWeight), AuxWeight, "must be >= 0");
    }
}
