using PopSteer.Streaming.Contracts;

namespace PopSteer.Scorer;

/// <summary>A batch's output for one user: the message to publish and the internal ids served (for the live metrics).</summary>
public sealed record ScoredUser(Recommendation Recommendation, int[] InternalItems);
