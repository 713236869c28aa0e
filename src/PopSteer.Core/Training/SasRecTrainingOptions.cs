namespace PopSteer.Core.Training;

/// <summary>METHOD.md section 2's optimisation: Adam 1e-3, batches of 2048 training samples, early stop on validation NDCG@10.</summary>
public sealed record SasRecTrainingOptions
{
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>Training samples (prefix -> next item) per optimiser step; whole windows are packed until this many targets.</summary>
    public int BatchSize { get; init; } = 2048;
    public int MaxEpochs { get; init; } = 200;
    /// <summary>Stop after this many epochs without a better validation NDCG@10.</summary>
    public int Patience { get; init; } = 10;
    /// <summary>Never stop before this epoch (the authors use 50 on large data; not required).</summary>
    public int MinEpochs { get; init; }
    /// <summary>See <see cref="TrainingWindows"/>; 0 means MaxLength / 2.</summary>
    public int WindowStride { get; init; }
    public int EvalBatchSize { get; init; } = 1024;
    public int Seed { get; init; } = 42;

    public void Validate()
    {
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "must be a positive number");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "must be positive");
        if (MaxEpochs < 1) throw new ArgumentOutOfRangeException(nameof(MaxEpochs), MaxEpochs, "must be positive");
        if (Patience < 1) throw new ArgumentOutOfRangeException(nameof(Patience), Patience, "must be positive");
        if (MinEpochs < 0) throw new ArgumentOutOfRangeException(nameof(MinEpochs), MinEpochs, "must be >= 0");
        if (WindowStride < 0) throw new ArgumentOutOfRangeException(nameof(WindowStride), WindowStride, "must be >= 0");
        if (EvalBatchSize < 1) throw new ArgumentOutOfRangeException(nameof(EvalBatchSize), EvalBatchSize, "must be positive");
    }
}
