using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using PopSteer.Streaming.Batching;
using PopSteer.Streaming.Contracts;
using PopSteer.Streaming.Kafka;
using PopSteer.Streaming.Resilience;
using PopSteer.Streaming.Sequences;

namespace PopSteer.Ingest;

/// <summary>
/// popsteer.interactions -> Redis sequences -> popsteer.users.changed. One consumer for the process's life on its own
/// thread (there is no async Consume); ExecuteAsync returns that thread's task so shutdown waits for it.
/// Per batch: validate, append to Redis (idempotent per partition offset), dead-letter the malformed, signal every
/// user touched, and commit only once the delivery reports are in. With <see cref="IngestOptions.OverlapDelivery"/>
/// the reports are awaited after the next batch has been collected and appended, so the broker's acknowledgement of
/// one batch does not hold up the next; a quiet input settles at once. While Redis or Kafka is down the same batch is
/// retried and nothing is committed, so a crash at any point loses nothing and redelivery changes nothing twice.
/// </summary>
public sealed class IngestWorker(
    KafkaClientFactory kafka,
    SequenceStore sequences,
    StreamingResilience resilience,
    IOptions<IngestOptions> options,
    IngestMetrics metrics,
    ILogger<IngestWorker> logger) : BackgroundService
{
    private const string Source = "ingest";
    private readonly IngestOptions _options = options.Value;
    private readonly DynamicBatcher _batcher = new(options.Value.MaxBatchSize, options.Value.PreferredBatchSize, options.Value.MaxBatchWait, options.Value.ArrivalGap);

    // Epoch and highest applied offset of each partition this instance reads; loop thread only. Read from Redis at a
    // partition's first batch, forgotten when it moves.
    private readonly Dictionary<TopicPartition, PartitionState> _partitions = [];

    // The last batch applied whose signals may still await their delivery reports; committed when they are in. And the
    // batch in hand once appended and sent, until the one before it is settled: set only inside Flush's retries, which
    // either succeed (and clear it) or give the batch up (and clear it). Loop thread only.
    private SignalledBatch? _inFlight, _staged;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stopping)
    {
        Thread.CurrentThread.Name = "ps-ingest"; // the OS thread name too: per-thread CPU (top -H, the demo) tells the loops apart
        var topics = kafka.Topics;
        var validator = new InteractionEventValidator(_options.MaxPayloadBytes, _options.EventTimeWindow);
        var batch = new IngestBatch();
        using var producer = kafka.CreateProducer<byte[], byte[]>(c => c.ClientId ??= "popsteer-ingest");
        using var consumer = kafka.CreateConsumer(_options.GroupId, c => c.ClientId ??= "popsteer-ingest", b => b
            // Runs inside Consume/Close on this thread: finish the batch in hand while the partitions are still ours.
            .SetPartitionsRevokedHandler((c, revoked) =>
            {
                if (batch.Count > 0 || _inFlight is not null) Flush(c, producer, batch, handingBack: true, stopping);
                foreach (var p in revoked) _partitions.Remove(p.TopicPartition);
            })
            .SetPartitionsLostHandler((_, lost) =>
            {
                foreach (var p in lost) _partitions.Remove(p.TopicPartition);
                var dropped = batch.RemovePartitions(lost.Select(p => p.TopicPartition));
                _inFlight?.RemovePartitions(lost.Select(p => p.TopicPartition));
                _staged?.RemovePartitions(lost.Select(p => p.TopicPartition));
                logger.LogWarning("Lost {Count} partitions; {Dropped} uncommitted messages go to their new owner", lost.Count, dropped);
            })
            .SetPartitionsAssignedHandler((_, assigned) =>
                logger.LogInformation("Assigned {Partitions}", string.Join(", ", assigned.Select(p => $"{p.Topic}[{p.Partition.Value}]")))));

        consumer.Subscribe(topics.Interactions);
        logger.LogInformation("Ingest consuming {Topic} as group {Group}; signals to {Signals}, dead letters to {DeadLetter}",
            topics.Interactions, _options.GroupId, topics.UsersChanged, topics.DeadLetter);
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                Collect(consumer, validator, batch, stopping);
                // A batch in hand is applied (settling the one before it); none means the input went quiet, so the
                // batch in flight is settled now instead of waiting for the next message.
                if (batch.Count > 0 || _inFlight is not null) Flush(consumer, producer, batch, handingBack: false, stopping);
            }
        }
        finally
        {
            // Graceful shutdown: the batch in hand is applied and committed (one more try if it was failing).
            try
            {
                if (batch.Count > 0 || _inFlight is not null) Flush(consumer, producer, batch, handingBack: true, stopping);
            }
            catch (Exception e)
            {
                // The loop is dying of this very error: leave the batch uncommitted, and still leave the group cleanly.
                logger.LogError("The {Count} messages in hand could not be applied before stopping ({Error}); they stay uncommitted",
                    batch.Count + (_inFlight?.Count ?? 0), e.Message);
                batch.Clear();
                (_inFlight, _staged) = (null, null);
            }
            // Leaving the group now lets the partitions move at once instead of after the session timeout.
            consumer.Close();
            producer.Flush(TimeSpan.FromSeconds(10));
            logger.LogInformation("Ingest stopped after {Batches} batches: {Applied} events applied, {Redelivered} redeliveries skipped, {DeadLettered} dead-lettered",
                metrics.Batches, metrics.EventsApplied, metrics.EventsRedelivered, metrics.DeadLettered);
        }
    }

    /// <summary>
    /// Blocks for the first message (at most a millisecond while a batch is in flight: a quiet input should not keep
    /// its commit waiting), then collects until the dynamic batching policy (<see cref="DynamicBatcher"/>) hands the batch on.
    /// </summary>
    private void Collect(IConsumer<byte[], byte[]> consumer, InteractionEventValidator validator, IngestBatch batch, CancellationToken stopping)
    {
        try
        {
            var first = _inFlight is null ? consumer.Consume(stopping) : consumer.Consume(TimeSpan.FromMilliseconds(1));
            if (first?.Message is null) return;
            batch.Add(first, Validate(validator, first));
            var started = Stopwatch.GetTimestamp();
            var previous = BatchPoll.Item;
            while (!stopping.IsCancellationRequested && _batcher.NextPoll(batch.Count, Stopwatch.GetElapsedTime(started), previous) is { } timeout)
            {
                var next = consumer.Consume(timeout);
                previous = DynamicBatcher.Outcome(next?.Message is not null, timeout);
                if (next?.Message is not null) batch.Add(next, Validate(validator, next));
            }
            metrics.Stage("collect", Stopwatch.GetElapsedTime(started));
        }
        catch (OperationCanceledException)
        {
            // Stopping: whatever is in hand is flushed by the caller.
        }
        catch (ConsumeException e) when (!e.Error.IsFatal)
        {
            logger.LogWarning("Consume error {Code}: {Reason}", e.Error.Code, e.Error.Reason);
        }
    }

    /// <summary>
    /// The epoch each partition's messages are applied in. Offsets at or below the highest one applied look like a
    /// redelivery, and are one as long as the partition's log still reaches past it. When the log now ends at or
    /// before that offset, the log has restarted (the topic was deleted and recreated, or truncated): without a new
    /// epoch every one of its events would be dropped as a redelivery, silently.
    /// </summary>
    private Dictionary<TopicPartition, int> Epochs(IConsumer<byte[], byte[]> consumer, IEnumerable<ConsumeResult<byte[], byte[]>> messages)
    {
        var epochs = new Dictionary<TopicPartition, int>();
        foreach (var group in messages.GroupBy(m => m.TopicPartition))
        {
            var tp = group.Key;
            bool loaded = false;
            if (!_partitions.TryGetValue(tp, out var state))
            {
                state = _partitions[tp] = sequences.PartitionAsync(tp.Topic, tp.Partition.Value).GetAwaiter().GetResult();
                loaded = true;
            }
            var lowest = group.Min(m => m.Offset.Value);
            if (state.HighestApplied >= 0 && lowest <= state.HighestApplied)
            {
                var high = HighWatermark(consumer, tp);
                if (high <= state.HighestApplied)
                    state = Restart(tp, state, $"its log ends at offset {high} but offset {state.HighestApplied} had been applied");
                else if (state.Marker is { } marker && loaded && MarkerAt(tp, state.HighestApplied) is { } found && found != marker)
                    state = Restart(tp, state, $"the record it now holds at offset {state.HighestApplied} is not the one applied there");
            }
            epochs[tp] = state.Epoch;
        }
        return epochs;
    }

    private PartitionState Restart(TopicPartition tp, PartitionState state, string why)
    {
        var restarted = _partitions[tp] = sequences.StartEpochAsync(tp.Topic, tp.Partition.Value, state.Epoch + 1).GetAwaiter().GetResult();
        metrics.PartitionReset();
        logger.LogError("{Topic}[{Partition}] restarted: {Why} (topic deleted and recreated, or truncated). Its events are applied as epoch {Epoch} instead of being dropped as redeliveries",
            tp.Topic, tp.Partition.Value, why, restarted.Epoch);
        return restarted;
    }

    /// <summary>
    /// The marker of the record the partition's log holds at <paramref name="offset"/>, read with a consumer of its own
    /// (once per partition this instance takes over, and only when a batch reaches back to or below that offset);
    /// null when it cannot be read (gone by retention or compaction, or the broker too slow): then nothing is decided.
    /// </summary>
    private string? MarkerAt(TopicPartition tp, long offset)
    {
        try
        {
            using var reader = kafka.CreateConsumer<byte[], byte[]>(_options.GroupId + "-restart-check", c =>
            {
                c.EnableAutoCommit = false;
                c.EnablePartitionEof = true;
                c.ClientId = "popsteer-ingest-restart-check";
            });
            reader.Assign(new TopicPartitionOffset(tp, offset));
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (DateTime.UtcNow < deadline)
            {
                var result = reader.Consume(TimeSpan.FromSeconds(1));
                if (result is null) continue;
                if (result.IsPartitionEOF || result.Offset.Value != offset) return null;
                return SequenceStore.RecordMarker(result.Message.Key, result.Message.Value, result.Message.Timestamp.UnixTimestampMs);
            }
        }
        catch (KafkaException e)
        {
            logger.LogWarning("Could not read {Topic}[{Partition}]@{Offset} to check for a restarted log: {Error}", tp.Topic, tp.Partition.Value, offset, e.Message);
        }
        return null;
    }

    /// <summary>The partition's high watermark: from the last fetch, or asked of the broker when none is known.</summary>
    private static long HighWatermark(IConsumer<byte[], byte[]> consumer, TopicPartition tp)
    {
        var cached = consumer.GetWatermarkOffsets(tp);
        return cached.High.Value >= 0 ? cached.High.Value : consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High.Value;
    }

    /// <summary>Whatever happens while validating one message dead-letters that message; it never stops the loop.</summary>
    private InteractionValidationResult Validate(InteractionEventValidator validator, ConsumeResult<byte[], byte[]> message)
    {
        try
        {
            return validator.Validate(message.Message.Key, message.Message.Value);
        }
        catch (Exception e)
        {
            logger.LogError(e, "Validating {Topic}[{Partition}]@{Offset} threw; dead-lettering it", message.Topic, message.Partition.Value, message.Offset.Value);
            return InteractionValidationResult.Invalid(InvalidEventReason.ValidationFailed, $"validation threw {e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>
    /// Applies the batch in hand, if any, and settles the one in flight when the input is quiet, the partitions are
    /// going back or overlapping is off; retries until it succeeds. Never commits what is not durable, never drops a message.
    /// </summary>
    private void Flush(IConsumer<byte[], byte[]> consumer, IProducer<byte[], byte[]> producer, IngestBatch batch, bool handingBack, CancellationToken stopping)
    {
        bool settle = handingBack || batch.Count == 0 || !_options.OverlapDelivery;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (batch.Count > 0)
                {
                    Apply(consumer, producer, batch);
                    batch.Clear();
                }
                if (settle && _inFlight is not null) Settle(consumer, producer);
                return;
            }
            catch (Exception e) when (IsTransient(e))
            {
                if (handingBack || stopping.IsCancellationRequested)
                {
                    // The partitions are going away: leave the batch uncommitted; its next owner re-applies it idempotently.
                    logger.LogWarning("Could not apply {Count} messages before giving the partitions back ({Error}); they stay uncommitted",
                        batch.Count + (_inFlight?.Count ?? 0), e.Message);
                    batch.Clear();
                    (_inFlight, _staged) = (null, null);
                    return;
                }
                logger.LogError("Batch of {Count} messages not applied (attempt {Attempt}): {Error}. Nothing committed; retrying in {Pause}",
                    batch.Count + (_inFlight?.Count ?? 0), attempt, e.Message, _options.RetryPause);
                stopping.WaitHandle.WaitOne(_options.RetryPause);
            }
        }
    }

    private void Apply(IConsumer<byte[], byte[]> consumer, IProducer<byte[], byte[]> producer, IngestBatch batch)
    {
        // 1-2 once per batch: a retry because the batch before could not be settled does not append and count it again.
        _staged ??= AppendAndSignal(consumer, producer, batch);

        // 3. The batch before this one had this one's collect and append to get its delivery reports: settle it, so
        //    offsets are committed in order. This one is committed at the next batch, or as soon as the input is quiet.
        if (_inFlight is not null) Settle(consumer, producer);
        (_inFlight, _staged) = (_staged, null);
    }

    /// <summary>Appends the batch to Redis and starts sending its signals and dead letters.</summary>
    private SignalledBatch AppendAndSignal(IConsumer<byte[], byte[]> consumer, IProducer<byte[], byte[]> producer, IngestBatch batch)
    {
        var started = Stopwatch.GetTimestamp();
        var topics = kafka.Topics;

        // 1. Durable in Redis (one pipelined round trip; retried by the pipeline; idempotent per partition offset).
        var valid = batch.Items.Where(i => i.Validation.IsValid).Select(i => (i.Message, Event: i.Validation.Event!)).ToArray();
        var epochs = Epochs(consumer, valid.Select(v => v.Message));
        var appends = valid.Select(v => new SequenceAppend(v.Event.UserId, v.Event.ItemId, v.Event.Timestamp, v.Message.Topic, v.Message.Partition.Value, v.Message.Offset.Value,
            epochs[v.Message.TopicPartition], SequenceStore.RecordMarker(v.Message.Message.Key, v.Message.Message.Value, v.Message.Message.Timestamp.UnixTimestampMs))).ToArray();
        var outcomes = sequences.AppendAsync(appends).GetAwaiter().GetResult();
        metrics.Stage("append", Stopwatch.GetElapsedTime(started));
        foreach (var group in valid.GroupBy(v => v.Message.TopicPartition))
            _partitions[group.Key] = _partitions[group.Key] with { HighestApplied = Math.Max(_partitions[group.Key].HighestApplied, group.Max(v => v.Message.Offset.Value)) };

        // 2. Dead letters for the malformed, one signal per user touched. Users whose events were all redeliveries
        //    are signalled too: the crash that caused the redelivery may have come before their first signal.
        var now = DateTimeOffset.UtcNow;
        var outgoing = new List<Outgoing>();
        foreach (var (message, validation) in batch.Items.Where(i => !i.Validation.IsValid))
        {
            logger.LogWarning("Dead-lettering {Topic}[{Partition}]@{Offset}: {Reason}", message.Topic, message.Partition.Value, message.Offset.Value, validation.Reason);
            var letter = DeadLetter.Create(validation.Code, validation.Reason!, message.Topic, message.Partition.Value, message.Offset.Value,
                message.Message.Key, message.Message.Value, Source, now, _options.DeadLetterMaxPayloadBytes);
            outgoing.Add(new Outgoing(topics.DeadLetter, letter.OriginalKey, JsonSerializer.SerializeToUtf8Bytes(letter, StreamingJsonContext.Default.DeadLetter),
                JsonSerializer.SerializeToUtf8Bytes(letter.WithoutOriginal(), StreamingJsonContext.Default.DeadLetter)));
        }

        var newest = new Dictionary<string, (ConsumeResult<byte[], byte[]> Message, InteractionEvent Event)>(StringComparer.Ordinal);
        foreach (var v in valid) newest[v.Event.UserId] = v;
        foreach (var outcome in outcomes)
        {
            var (message, e) = newest[outcome.UserId];
            var signal = new UserChanged
            {
                UserId = outcome.UserId,
                Appended = outcome.Appended,
                SequenceLength = (int)outcome.Length,
                LastEventId = e.EventId,
                LastItemId = e.ItemId,
                EventTimestamp = e.Timestamp,
                EnqueuedAt = new DateTimeOffset(message.Message.Timestamp.UtcDateTime, TimeSpan.Zero),
                AppliedAt = now,
            };
            outgoing.Add(new Outgoing(topics.UsersChanged, Encoding.UTF8.GetBytes(outcome.UserId), JsonSerializer.SerializeToUtf8Bytes(signal, StreamingJsonContext.Default.UserChanged)));
        }
        var applied = outcomes.Sum(o => o.Appended);
        return new SignalledBatch(outgoing, Send(producer, outgoing), batch.NextOffsets(), batch.Count, applied, valid.Length - applied,
            batch.Count - valid.Length, outcomes.Count, started);
    }

    /// <summary>Waits for the in-flight batch's delivery reports (re-sending what failed) and commits its offsets: everything it did is durable now.</summary>
    private void Settle(IConsumer<byte[], byte[]> consumer, IProducer<byte[], byte[]> producer)
    {
        var batch = _inFlight!;
        var waiting = Stopwatch.GetTimestamp();
        Deliver(producer, batch);
        metrics.Stage("signal", Stopwatch.GetElapsedTime(waiting));

        var committing = Stopwatch.GetTimestamp();
        Commit(consumer, batch.Offsets);
        metrics.Stage("commit", Stopwatch.GetElapsedTime(committing));
        _inFlight = null;

        metrics.BatchCommitted(batch.Applied, batch.Redelivered, batch.DeadLettered, batch.Signals, Stopwatch.GetElapsedTime(batch.Started));
        logger.LogDebug("Batch of {Count}: {Applied} applied, {Redelivered} redeliveries, {DeadLetters} dead letters, {Signals} signals",
            batch.Count, batch.Applied, batch.Redelivered, batch.DeadLettered, batch.Signals);
    }

    /// <summary>
    /// Starts producing every message. A produce the client refuses at once (its queue full, say) becomes a failed
    /// delivery like any other, so <see cref="Deliver"/> retries it through the Polly pipeline instead of the whole batch
    /// being applied again.
    /// </summary>
    private static Task[] Send(IProducer<byte[], byte[]> producer, IReadOnlyList<Outgoing> outgoing, CancellationToken token = default) =>
        outgoing.Select(m =>
        {
            try
            {
                return (Task)producer.ProduceAsync(m.Topic, new Message<byte[], byte[]> { Key = m.Key!, Value = m.Value }, token);
            }
            catch (Exception e)
            {
                return Task.FromException(e);
            }
        }).ToArray();

    /// <summary>
    /// Waits for every delivery report of the batch; a retry re-sends only the messages not yet acknowledged. A message
    /// the broker refuses as too large (MsgSizeTooLarge is never transient) is sent once more as its
    /// <see cref="Outgoing.Smaller"/> form when it has one, so an oversized dead letter cannot stop the loop.
    /// </summary>
    private void Deliver(IProducer<byte[], byte[]> producer, SignalledBatch batch)
    {
        if (batch.Pending.Count == 0) return;
        resilience.Kafka.ExecuteAsync(async token =>
        {
            while (true)
            {
                var deliveries = batch.Deliveries ??= Send(producer, batch.Pending, token);
                try
                {
                    await Task.WhenAll(deliveries).WaitAsync(token).ConfigureAwait(false);
                    return;
                }
                catch
                {
                    var retry = new List<Outgoing>();
                    var shrunk = 0;
                    for (var i = 0; i < batch.Pending.Count; i++)
                    {
                        if (deliveries[i].IsCompletedSuccessfully) continue;
                        var shrink = batch.Pending[i].Smaller is not null && TooLarge(deliveries[i]);
                        retry.Add(shrink ? batch.Pending[i].Shrink() : batch.Pending[i]);
                        if (shrink) shrunk++;
                    }
                    (batch.Pending, batch.Deliveries) = (retry, null);
                    metrics.Resent(retry.Count);
                    if (shrunk == 0) throw;
                    logger.LogError("{Count} dead letters were too large for the broker; sending them without their original bytes (length and SHA-256 kept)", shrunk);
                }
            }
        }).AsTask().GetAwaiter().GetResult();
    }

    private static bool TooLarge(Task delivery) =>
        delivery.Exception?.InnerException is KafkaException { Error.Code: ErrorCode.MsgSizeTooLarge };

    /// <summary>
    /// A batch applied to Redis whose signals and dead letters are on their way: what is still unacknowledged
    /// (<see cref="Pending"/>, with the sends in progress) and the offsets to commit once nothing is.
    /// </summary>
    private sealed class SignalledBatch(List<Outgoing> pending, Task[] deliveries, IReadOnlyList<TopicPartitionOffset> offsets,
        int count, int applied, int redelivered, int deadLettered, int signals, long started)
    {
        public List<Outgoing> Pending { get; set; } = pending;
        public Task[]? Deliveries { get; set; } = deliveries;
        public IReadOnlyList<TopicPartitionOffset> Offsets { get; private set; } = offsets;
        public int Count => count;
        public int Applied => applied;
        public int Redelivered => redelivered;
        public int DeadLettered => deadLettered;
        public int Signals => signals;
        public long Started => started;

        /// <summary>Partitions this instance lost are not committed by it: their new owner re-applies them idempotently.</summary>
        public void RemovePartitions(IEnumerable<TopicPartition> lost)
        {
            var gone = lost.ToHashSet();
            Offsets = Offsets.Where(o => !gone.Contains(o.TopicPartition)).ToArray();
        }
    }

    /// <summary>One message to produce; <see cref="Smaller"/> is the value to send instead if the broker finds it too large.</summary>
    private sealed record Outgoing(string Topic, byte[]? Key, byte[] Value, byte[]? Smaller = null)
    {
        public Outgoing Shrink() => new(Topic, Key, Smaller!, null);
    }

    private void Commit(IConsumer<byte[], byte[]> consumer, IReadOnlyList<TopicPartitionOffset> offsets)
    {
        if (offsets.Count == 0) return;
        try
        {
            resilience.Kafka.Execute(() => consumer.Commit(offsets));
        }
        catch (KafkaException e) when (OwnershipLost(e.Error.Code))
        {
            // A rebalance took the partitions: the new owner re-reads from the last commit; the Redis writes are idempotent.
            logger.LogWarning("Commit refused ({Code}); the partitions moved and their new owner re-applies idempotently", e.Error.Code);
        }
    }

    private static bool OwnershipLost(ErrorCode code) =>
        code is ErrorCode.RebalanceInProgress or ErrorCode.IllegalGeneration or ErrorCode.UnknownMemberId or ErrorCode.Local_State;

    private static bool IsTransient(Exception e) =>
        e is BrokenCircuitException || StreamingResilience.IsTransientRedis(e) || StreamingResilience.IsTransientKafka(e)
        || (e is AggregateException a && a.InnerExceptions.All(IsTransient));
}
