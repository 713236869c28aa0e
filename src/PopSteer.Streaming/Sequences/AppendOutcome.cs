namespace PopSteer.Streaming.Sequences;

/// <summary>What one batch append did to one user: items actually appended (0 when all were redeliveries) and the new length.</summary>
public readonly record struct AppendOutcome(string UserId, int Appended, long Length);
