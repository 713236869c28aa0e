namespace PopSteer.Streaming.Sequences;

/// <summary>One stored interaction: the external item id and the event time (millisecond precision).</summary>
public readonly record struct SequenceEntry(string ItemId, DateTimeOffset Timestamp);
