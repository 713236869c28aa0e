namespace PopSteer.Core.Training;

/// <summary>
/// The SAE's optimisation. METHOD.md section 3 gives Adam 1e-3, batch 2048; at that rate the SAE did not converge in
/// 100 epochs on repeat-heavy data. The default here is a measured schedule (docs/core.md): Adam, one epoch of linear
/// warm-up to 3e-3, cosine decay to 0 over a fixed 20 epochs, batches of 64 (32x the steps of 2048 at 1.4-1.55x the
/// time of batch 256 on a CPU; the only setting measured that reached validation FVU 0.01 on Wikipedia), inputs
/// scaled to unit variance, b_dec started at the mean and unit-norm decoder rows (Gao et al. 2024); the best
/// validation FVU is kept.
/// </summary>
public sealed record SaeTrainingOptions
{
    /// <summary>Peak learning rate (after the warm-up, before the decay).</summary>
    public double LearningRate { get; init; } = 3e-3;
    public int BatchSize { get; init; } = 64;
    /// <summary>The schedule's length: the cosine decay reaches 0 here.</summary>
    public int MaxEpochs { get; init; } = 20;
    /// <summary>Stop after this many epochs without a lower validation FVU (METHOD.md gives none). With a decaying schedule
    /// the last epochs gain most, so the default never stops early.</summary>
    public int Patience { get; init; } = 20;
    /// <summary>Weight of L_aux in FVU + AuxWeight * L_aux (1/2 in the method).</summary>
    public double AuxWeight { get; init; } = 0.5;
    /// <summary>Linear warm-up of the learning rate over this many epochs (0 = none).</summary>
    public double WarmupEpochs { get; init; } = 1;
    /// <summary>Cosine decay of the learning rate to 0 at MaxEpochs after the warm-up (false = constant).</summary>
    public bool CosineDecay { get; init; } = true;
    public int Seed { get; init; } = 42;
    /// <summary>Start b_dec at the training vectors' mean (Gao et al. 2024 use the geometric median) instead of 0, so
    /// the first steps learn directions rather than the offset. Not applied when training resumes an SAE.</summary>
    public bool DecoderBiasFromMean { get; init; } = true;
    /// <summary>Keep W_dec's rows at unit norm: the gradient's component along each row is removed before a step and
    /// the rows are renormalised after it (Gao et al. 2024).</summary>
    public bool UnitNormDecoder { get; init; } = true;
    /// <summary>Train on x / s, s = the RMS per dimension of the centred training vectors, and fold s back into the
    /// weights at the end (<see cref="Model.TopKSae.ScaleInputs"/>), so Adam's step size does not depend on how large
    /// SASRec's vectors are. For a freshly initialised SAE (the fitter turns it off when resuming).</summary>
    public bool NormaliseInputs { get; init; } = true;
    /// <summary>On the CPU, run each step in managed code (<see cref="SaeTrainingStep"/>: the same loss, gradients and
    /// Adam update as autograd's step, without libtorch's per-call costs). False: autograd, as on a GPU.</summary>
    public bool ManagedStep { get; init; } = true;

    public void Validate()
    {
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "must be a positive number");
        if (BatchSize < 2) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "must be at least 2 (FVU needs a batch variance)");
        if (MaxEpochs < 1) throw new ArgumentOutOfRangeException(nameof(MaxEpochs), MaxEpochs, "must be positive");
        if (Patience < 1) throw new ArgumentOutOfRangeException(nameof(Patience), Patience, "must be positive");
        if (WarmupEpochs < 0 || double.IsNaN(WarmupEpochs)) throw new ArgumentOutOfRangeException(nameof(WarmupEpochs), WarmupEpochs, "must be >= 0");
        if (AuxWeight < 0 || double.IsNaN(AuxWeight)) throw new ArgumentOutOfRangeException(nameof(AuxWeight), AuxWeight, "must be >= 0");
    }
}
