using TorchSharp;

namespace PopSteer.Core.Training;

/// <summary>
/// The learning rate per optimiser step: a linear warm-up from 0 to <c>Peak</c> over <c>WarmupSteps</c>, then either the
/// peak (no decay) or a cosine decay to <c>Peak * FinalFraction</c> at <c>TotalSteps</c>. Set per step, so a
/// schedule's length does not depend on the batch size.
/// </summary>
public sealed record LearningRateSchedule(double Peak, long WarmupSteps, long TotalSteps, bool Cosine, double FinalFraction = 0.0)
{
    public double At(long step)
    {
        if (WarmupSteps > 0 && step < WarmupSteps) return Peak * (step + 1) / WarmupSteps;
        if (!Cosine || TotalSteps <= WarmupSteps) return Peak;
        double progress = Math.Clamp((double)(step - WarmupSteps) / (TotalSteps - WarmupSteps), 0, 1);
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
