using System.Diagnostics;
using Confluent.Kafka;

namespace PopSteer.Scorer;

/// <summary>
/// A batch whose recommendations (and dead letters) are handed to the producer while their delivery reports are
/// still coming in. The loop goes on to the next batch meanwhile (<c>Scoring:BatchesInFlight</c>) and commits a
/// pending batch's offsets only once every report is in and every batch before it is committed: the commit still
/// follows the durable write, it just no longer holds up the next model call.
/// </summary>
public sealed class PendingBatch
{
    private long _deliveredAt;

    public PendingBatch(long number, List<ConsumeResult<string, byte[]>> signals, IReadOnlyList<Task> deliveries, long startedAt,
        ServingModel model, ActiveSteering steering, IReadOnlyList<UserSignal> users, IReadOnlyList<ScoredUser> scored)
    {
        Number = number;
        Signals = signals;
        StartedAt = startedAt;
        ProducedAt = Stopwatch.GetTimestamp();
        Model = model;
        Steering = steering;
        Users = users;
        Scored = scored;
        Deliveries = Task.WhenAll(deliveries);
        // When the last report came in, for the publish stage's timing (the loop may look only later).
        Deliveries.ContinueWith(_ => Volatile.Write(ref _deliveredAt, Stopwatch.GetTimestamp()), CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>The loop's batch number (the batch id is the instance and this).</summary>
    public long Number { get; }

    /// <summary>The consumed signals the batch answers; their offsets are what it commits.</summary>
    public List<ConsumeResult<string, byte[]>> Signals { get; }

    /// <summary>Every delivery report of the batch; faults with the first failed delivery.</summary>
    public Task Deliveries { get; }

    public long StartedAt { get; }

    /// <summary>When the last message was handed to the producer.</summary>
    public long ProducedAt { get; }

    /// <summary>When the last delivery report came in (0 while any is outstanding).</summary>
    public long DeliveredAt => Volatile.Read(ref _deliveredAt);

    public ServingModel Model { get; }
    public ActiveSteering Steering { get; }
    public IReadOnlyList<UserSignal> Users { get; }
    public IReadOnlyList<ScoredUser> Scored { get; }

    /// <summary>Next offset to consume per partition: what committing this batch records.</summary>
    public TopicPartitionOffset[] CommitOffsets() => Signals
        .GroupBy(r => r.TopicPartition)
        .Select(g => new TopicPartitionOffset(g.Key, g.Max(r => r.Offset.Value) + 1))
        .ToArray();
}
