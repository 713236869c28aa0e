namespace PopSteer.Core.Training;

/// <summary>
/// SASRec's optimisation: Adam, batches of 2048 training samples, the best validation NDCG@10 epoch kept (METHOD.md
/// section 2), at 3e-3 instead of the method's 1e-3: measured to reach the same validation NDCG@10 in about a third of the
/// epochs on ML-100K and Wikipedia (docs/core.md, "Fidelity"), which pays for the minimum number of epochs.
/// The schedule: one epoch of linear warm-up, the constant rate, then a cool-down: the rate falls along a half cosine
/// to 0 over the last <see cref="CooldownEpochs"/> of <see cref="MaxEpochs"/>, or over the CooldownEpochs after
/// patience runs out (never before <see cref="MinEpochs"/>), whichever comes first; training ends with the cool-down.
/// A constant rate left the ML-1M-sized data still climbing at epoch 61; the cool-down ends a run at a settled point
/// within a known budget (docs/core.md 1c, issue 11).
/// </summary>
public sealed record SasRecTrainingOptions
{
    public double LearningRate { get; init; } = 3e-3;
    /// <summary>Training samples (prefix -> next item) per optimiser step; whole windows are packed until this many targets.</summary>
    public int BatchSize { get; init; } = 2048;
    /// <summary>The budget: no run goes past this epoch, and the cool-down ends at it unless patience started it sooner.</summary>
    public int MaxEpochs { get; init; } = 40;
    /// <summary>After this many epochs without a better validation NDCG@10: start the cool-down, or stop when there is none.</summary>
    public int Patience { get; init; } = 10;
    /// <summary>Patience never ends the constant rate (by the cool-down, or a stop without one) before this epoch; only a
    /// budget shorter than MinEpochs + CooldownEpochs does. An almost untrained SASRec with a tied item table repeats the last
    /// item, which on repeat-heavy data scores high at epoch 1 and dips before it climbs; patience alone stops there (docs/core.md).</summary>
    public int MinEpochs { get; init; } = MinEpochsDefault;
    public const int MinEpochsDefault = 30;
    /// <summary>Linear warm-up of the learning rate over this many epochs (0 = none).</summary>
    public double WarmupEpochs { get; init; } = 1;
    /// <summary>The cool-down's length in epochs (0 = none: the constant rate until the stopping rule ends training).</summary>
    public int CooldownEpochs { get; init; } = 10;
    /// <summary>Cosine decay of the learning rate over all of MaxEpochs after the warm-up, in place of the cool-down
    /// (the fast schedule of docs/core.md 1b); the stopping rule then ends training as with no cool-down.</summary>
    public bool CosineDecay { get; init; }
    /// <summary>See <see cref="TrainingWindows"/>; 0 means MaxLength / 2.</summary>
    public int WindowStride { get; init; }
    public int EvalBatchSize { get; init; } = 1024;
    public int Seed { get; init; } = 42;

    /// <summary>Whether a cool-down follows the constant rate (false with <see cref="CosineDecay"/>, which decays all along).</summary>
    public bool HasCooldown => CooldownEpochs > 0 && !CosineDecay;

    /// <summary>The epoch after which the cool-down starts when patience does not start it sooner.</summary>
    public int CooldownStartEpoch => HasCooldown ? Math.Max(0, MaxEpochs - CooldownEpochs) : MaxEpochs;

    /// <summary>Patience has run out: <paramref name="epoch"/> epochs done, none better than <paramref name="bestEpoch"/>
    /// for Patience epochs, and never before MinEpochs.</summary>
    public bool PatienceRunsOut(int epoch, int bestEpoch) => epoch >= MinEpochs && epoch - bestEpoch >= Patience;

    /// <summary>After <paramref name="epoch"/> epochs at the constant rate, the best of which was <paramref name="bestEpoch"/>:
    /// does the cool-down start now? At the budget's last CooldownEpochs, or sooner when patience runs out.</summary>
    public bool CoolsDownAfter(int epoch, int bestEpoch) => HasCooldown && (epoch >= CooldownStartEpoch || PatienceRunsOut(epoch, bestEpoch));

    /// <summary>The stopping rule without a cool-down: after <paramref name="epoch"/> epochs, the best of which was
    /// <paramref name="bestEpoch"/>, does training end? At MaxEpochs, or when patience runs out. With a cool-down, training
    /// ends when the cool-down does (see <see cref="CoolsDownAfter"/>) or at MaxEpochs.</summary>
    public bool StopsAfter(int epoch, int bestEpoch) => epoch >= MaxEpochs || (!HasCooldown && PatienceRunsOut(epoch, bestEpoch));

    public void Validate()
    {
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "must be a positive number");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "must be positive");
        if (MaxEpochs < 1) throw new ArgumentOutOfRangeException(nameof(MaxEpochs), MaxEpochs, "must be positive");
        if (Patience < 1) throw new ArgumentOutOfRangeException(nameof(Patience), Patience, "must be positive");
        if (WarmupEpochs < 0 || double.IsNaN(WarmupEpochs)) throw new ArgumentOutOfRangeException(nameof(WarmupEpochs), WarmupEpochs, "must be >= 0");
        if (CooldownEpochs < 0) throw new ArgumentOutOfRangeException(nameof(CooldownEpochs), CooldownEpochs, "must be >= 0");
        if (MinEpochs < 0) throw new ArgumentOutOfRangeException(nameof(MinEpochs), MinEpochs, "must be >= 0");
        if (WindowStride < 0) throw new ArgumentOutOfRangeException(nameof(WindowStride), WindowStride, "must be >= 0");
        if (EvalBatchSize < 1) throw new ArgumentOutOfRangeException(nameof(EvalBatchSize), EvalBatchSize, "must be positive");
    }
}
