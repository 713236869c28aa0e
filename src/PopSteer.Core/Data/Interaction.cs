namespace PopSteer.Core.Data;

/// <summary>One implicit-feedback row: a user touched an item at a time. External ids stay strings.</summary>
/// <param name="Timestamp">Seconds or milliseconds since the epoch; only the order matters.</param>
/// <param name="Weight">Carried for formats that have one; the method counts every row as 1.</param>
public readonly record struct Interaction(string UserId, string ItemId, long Timestamp, float Weight = 1f);
