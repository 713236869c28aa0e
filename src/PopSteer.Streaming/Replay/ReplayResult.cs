namespace PopSteer.Streaming.Replay;

/// <summary>Messages handed to Kafka, how many of them failed delivery, and how long it took.</summary>
public readonly record struct ReplayResult(long Sent, long Failed, TimeSpan Elapsed, string? FirstError)
{
    public double EventsPerSecond => Elapsed > TimeSpan.Zero ? Sent / Elapsed.TotalSeconds : 0;
}
