namespace PopSteer.Streaming.Observability;

/// <summary>A consumer loop whose health a service reports: its name in the checks and its Kafka consumer group.</summary>
public sealed record WatchedConsumerGroup(string Loop, string GroupId);
