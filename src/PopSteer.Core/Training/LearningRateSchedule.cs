using TorchSharp;

namespace PopSteer.Core.Training;

/// <summary>
/// The learning rate per optimiser step: a linear warm-up from 0 to <c>Peak</c> over <c>WarmupSteps</c>, then either the
/// peak (no decay) or, from <see cref="DecayStartStep"/> (never before the warm-up ends), a half cosine down to
/// <c>Peak * FinalFraction</c> at <c>TotalSteps</c>. A decay that starts at the warm-up's end is the classic cosine
/// schedule; one that starts late is a constant rate with a cool-down. Set per step, so a schedule's length does not
/// depend on the batch size.
/// </summary>
public sealed record LearningRateSchedule(double Peak, long WarmupSteps, long TotalSteps, bool Cosine, double FinalFraction = 0.0)
{
    /// <summary>The step at which the decay begins (0: as soon as the warm-up ends).</summary>
    public long DecayStartStep { get; init; }

    public double At(long step)
    {
        if (WarmupSteps > 0 && step < WarmupSteps) return Peak * (step + 1) / WarmupSteps;
        long start = Math.Max(WarmupSteps, DecayStartStep);
        if (!Cosine || TotalSteps <= start || step < start) return Peak;
        double progress = Math.Clamp((double)(step - start) / (TotalSteps - start), 0, 1);
        double floor = Peak * FinalFraction;
        return floor + (Peak - floor) * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }

    /// <summary>Sets every parameter group of <paramref name="optimizer"/> to the rate of <paramref name="step"/>; returns it.</summary>
    public double Apply(torch.optim.Optimizer optimizer, long step)
    {
        double lr = At(step);
        foreach (var group in ((TorchSharp.Modules.OptimizerHelper)optimizer).ParamGroups) group.LearningRate = lr;
        return lr;
    }
}
