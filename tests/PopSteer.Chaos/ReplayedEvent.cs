namespace PopSteer.Chaos;

/// <summary>One event of the known set: what was sent, when, and where Kafka put it (the ground truth).</summary>
public sealed class ReplayedEvent(string userId, int index, string itemId)
{
    public string UserId { get; } = userId;

    /// <summary>Position in the user's own sequence (0 = first).</summary>
    public int Index { get; } = index;

    public string ItemId { get; } = itemId;

    public string EventId => $"chaos-{UserId}-{Index}";

    /// <summary>Event time in unix ms: the wall clock at send, strictly increasing over the whole replay, so it identifies the event in Redis.</summary>
    public long TimestampMs { get; set; }

    public DateTimeOffset SentAt { get; set; }

    /// <summary>Acknowledged by the broker (acks=all); only these are ground truth.</summary>
    public bool Delivered { get; set; }

    public string? DeliveryError { get; set; }
}
