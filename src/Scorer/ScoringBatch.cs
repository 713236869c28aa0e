using Confluent.Kafka;

namespace PopSteer.Scorer;

/// <summary>
/// A batch whose Redis read and model call run on a pool thread while the loop collects the next batch and another
/// batch may be scored beside it (<c>Scoring:ConcurrentBatches</c>). The loop hands a finished one to the producer
/// only when every batch started before it has been handed on, so a user's recommendations are published in the
/// order of their signals, as with one batch at a time.
/// </summary>
internal sealed class ScoringBatch(long number, PreparedBatch prepared, ServingModel model, long startedAt,
    Task<(ActiveSteering Steering, IReadOnlyList<ScoredUser> Scored)> work)
{
    /// <summary>The loop's batch number (the batch id is the instance and this).</summary>
    public long Number { get; } = number;

    public PreparedBatch Prepared { get; } = prepared;

    /// <summary>The consumed signals the batch answers: what a rewind seeks back to while it is in hand.</summary>
    public List<ConsumeResult<string, byte[]>> Signals => Prepared.Signals;

    /// <summary>The version the batch is scored with; it is not swapped out while the batch is being scored.</summary>
    public ServingModel Model { get; } = model;

    public long StartedAt { get; } = startedAt;

    /// <summary>The read and the model call; faults with what stopped them (nothing of the batch is published then).</summary>
    public Task<(ActiveSteering Steering, IReadOnlyList<ScoredUser> Scored)> Work { get; } = work;

    /// <summary>Blocks until the work has finished, whatever its outcome (observed, so a dropped fault is never unobserved).</summary>
    public void WaitFinished()
    {
        ((IAsyncResult)Work).AsyncWaitHandle.WaitOne();
        _ = Work.Exception;
    }
}
