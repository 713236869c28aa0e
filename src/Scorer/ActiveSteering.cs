using PopSteer.Core.Steering;

namespace PopSteer.Scorer;

/// <summary>The steering one batch is scored with: the knob values it is stamped with and the plan built from them.</summary>
public sealed record ActiveSteering(double Alpha, int Neurons, SteeringPlan Plan);
