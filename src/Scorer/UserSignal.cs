using Confluent.Kafka;

namespace PopSteer.Scorer;

/// <summary>
/// One distinct user of a batch: the newest signal's event time and Kafka enqueue time, and where that signal was
/// read (its users-changed topic, partition and offset: the trigger that names the recommendation made for it).
/// </summary>
public readonly record struct UserSignal(string UserId, DateTimeOffset? EventTimestamp, DateTimeOffset? EnqueuedAt, TopicPartitionOffset? Trigger = null);
