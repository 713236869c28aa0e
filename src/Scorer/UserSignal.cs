namespace PopSteer.Scorer;

/// <summary>One distinct user of a batch: the newest signal's event time and Kafka enqueue time.</summary>
public readonly record struct UserSignal(string UserId, DateTimeOffset? EventTimestamp, DateTimeOffset? EnqueuedAt);
