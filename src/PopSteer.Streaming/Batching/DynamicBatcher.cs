namespace PopSteer.Streaming.Batching;

/// <summary>
/// When a consumer loop stops collecting and hands its batch on, as Triton's dynamic batcher decides it: a batch
/// waits only when waiting pays. With one or more items in hand the loop first drains what the client has already
/// buffered (polls that do not wait). Once that is drained the batch goes at once if it has reached its preferred
/// size; below it, the loop waits at most <see cref="ArrivalGap"/> for one more item, and only while items keep
/// arriving within that gap does the batch keep growing. <see cref="MaxBatchSize"/> and <see cref="MaxBatchWait"/>
/// (counted from the first item) bound everything. So an idle stream's single event goes on after one short gap, a
/// steady stream forms batches as large as it fills within the gap, and a backlog fills every batch to the maximum
/// without a wait.
/// </summary>
public sealed class DynamicBatcher
{
    public DynamicBatcher(int maxBatchSize, int preferredBatchSize, TimeSpan maxBatchWait, TimeSpan arrivalGap)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(preferredBatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatchWait, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(arrivalGap, TimeSpan.Zero);
        MaxBatchSize = maxBatchSize;
        PreferredBatchSize = Math.Min(preferredBatchSize, maxBatchSize); // a preferred size above the maximum means the maximum
        MaxBatchWait = maxBatchWait;
        ArrivalGap = arrivalGap;
    }

    public int MaxBatchSize { get; }
    public int PreferredBatchSize { get; }
    public TimeSpan MaxBatchWait { get; }
    public TimeSpan ArrivalGap { get; }

    /// <summary>
    /// The timeout of the next poll for a batch of <paramref name="count"/> (at least 1) items whose first arrived
    /// <paramref name="sinceFirst"/> ago, given what the previous poll found; null: hand the batch on now.
    /// </summary>
    public TimeSpan? NextPoll(int count, TimeSpan sinceFirst, BatchPoll previous)
    {
        if (count >= MaxBatchSize || sinceFirst >= MaxBatchWait) return null;
        return previous switch
        {
            // Something came: take what is already buffered before deciding anything.
            BatchPoll.Item => TimeSpan.Zero,
            // Drained. At the preferred size waiting buys nothing; below it, wait one gap for more.
            BatchPoll.Drained => count >= PreferredBatchSize || ArrivalGap == TimeSpan.Zero
                ? null
                : Min(ArrivalGap, MaxBatchWait - sinceFirst),
            // Nothing arrived within the gap: the input has paused, so waiting longer would only add latency.
            _ => null,
        };
    }

    /// <summary>What a poll with <paramref name="timeout"/> found: an item, nothing buffered (a zero timeout), or nothing within a wait.</summary>
    public static BatchPoll Outcome(bool gotItem, TimeSpan timeout) =>
        gotItem ? BatchPoll.Item : timeout <= TimeSpan.Zero ? BatchPoll.Drained : BatchPoll.Quiet;

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}

/// <summary>What the previous poll of a batch found.</summary>
public enum BatchPoll
{
    /// <summary>An item (the first one included).</summary>
    Item,
    /// <summary>Nothing already buffered: a poll that did not wait came back empty.</summary>
    Drained,
    /// <summary>Nothing arrived within a poll that waited.</summary>
    Quiet,
}
