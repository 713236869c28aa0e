using PopSteer.Streaming.Contracts;

namespace PopSteer.Scorer;

/// <summary>
/// A batch's output for one user: the message to publish and the internal ids served (for the live metrics); for a
/// user in the shadow sample also the internal ids plain SASRec would have listed (<see cref="ShadowSample"/>).
/// </summary>
public sealed record ScoredUser(Recommendation Recommendation, int[] InternalItems, int[]? UnsteeredItems = null);
