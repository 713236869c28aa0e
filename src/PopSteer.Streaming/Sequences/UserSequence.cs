namespace PopSteer.Streaming.Sequences;

/// <summary>A user's stored history, oldest first; empty when the user is unknown (or expired).</summary>
public sealed record UserSequence(string UserId, IReadOnlyList<SequenceEntry> Entries)
{
    /// <summary>The external item ids, oldest to newest: what the scorer maps through the model's vocabulary.</summary>
    public IReadOnlyList<string> ItemIds => Entries.Select(e => e.ItemId).ToArray();
}
