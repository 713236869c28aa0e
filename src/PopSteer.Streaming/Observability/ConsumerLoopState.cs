namespace PopSteer.Streaming.Observability;

/// <summary>
/// What the last librdkafka statistics report of one consumer said. Statistics are delivered on the thread that calls
/// Consume, as a side effect of polling, so <see cref="ObservedAt"/> is the last time the loop polled (to within the
/// statistics interval): a heartbeat that the loop beats by polling, idle or busy.
/// </summary>
public sealed record ConsumerLoopState(DateTimeOffset ObservedAt, string GroupState, int AssignedPartitions, long Lag);
