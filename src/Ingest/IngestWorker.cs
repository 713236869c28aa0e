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
/// user touched, wait for the delivery reports, and only then commit. While Redis or Kafka is down the same batch is
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

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stopping)
    {
        var topics = kafka.Topics;
        var validator = new InteractionEventValidator(_options.MaxPayloadBytes);
        var batch = new IngestBatch();
        using var producer = kafka.CreateProducer<byte[], byte[]>(c => c.ClientId ??= "popsteer-ingest");
        using var consumer = kafka.CreateConsumer(_options.GroupId, c => c.ClientId ??= "popsteer-ingest", b => b
            // Runs inside Consume/Close on this thread: finish the batch in hand while the partitions are still ours.
            .SetPartitionsRevokedHandler((c, revoked) =>
            {
                if (batch.Count > 0) Flush(c, producer, batch, handingBack: true, stopping);
            })
            .SetPartitionsLostHandler((_, lost) =>
            {
                var dropped = batch.RemovePartitions(lost.Select(p => p.TopicPartition));
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
                if (batch.Count > 0) Flush(consumer, producer, batch, handingBack: false, stopping);
            }
        }
        finally
        {
            // Graceful shutdown: the batch in hand is applied and committed (one more try if it was failing).
            if (batch.Count > 0) Flush(consumer, producer, batch, handingBack: true, stopping);
            // Leaving the group now lets the partitions move at once instead of after the session timeout.
            consumer.Close();
            producer.Flush(TimeSpan.FromSeconds(10));
            logger.LogInformation("Ingest stopped after {Batches} batches: {Applied} events applied, {Redelivered} redeliveries skipped, {DeadLettered} dead-lettered",
                metrics.Batches, metrics.EventsApplied, metrics.EventsRedelivered, metrics.DeadLettered);
        }
    }

    /// <summary>Blocks for the first message, then collects until the dynamic batching policy (<see cref="DynamicBatcher"/>) hands the batch on.</summary>
    private void Collect(IConsumer<byte[], byte[]> consumer, InteractionEventValidator validator, IngestBatch batch, CancellationToken stopping)
    {
        try
        {
            var first = consumer.Consume(stopping);
            if (first?.Message is null) return;
            batch.Add(first, validator.Validate(first.Message.Key, first.Message.Value));
            var started = Stopwatch.GetTimestamp();
            var previous = BatchPoll.Item;
            while (!stopping.IsCancellationRequested && _batcher.NextPoll(batch.Count, Stopwatch.GetElapsedTime(started), previous) is { } timeout)
            {
                var next = consumer.Consume(timeout);
                previous = DynamicBatcher.Outcome(next?.Message is not null, timeout);
                if (next?.Message is not null) batch.Add(next, validator.Validate(next.Message.Key, next.Message.Value));
            }
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

    /// <summary>Applies the batch until it succeeds; never commits what is not durable, never drops a message.</summary>
    private void Flush(IConsumer<byte[], byte[]> consumer, IProducer<byte[], byte[]> producer, IngestBatch batch, bool handingBack, CancellationToken stopping)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                Apply(consumer, producer, batch);
                batch.Clear();
                return;
            }
            catch (Exception e) when (IsTransient(e))
            {
                if (handingBack || stopping.IsCancellationRequested)
                {
                    // The partitions are going away: leave the batch uncommitted; its next owner re-applies it idempotently.
                    logger.LogWarning("Could not apply {Count} messages before giving the partitions back ({Error}); they stay uncommitted", batch.Count, e.Message);
                    batch.Clear();
                    return;
                }
                logger.LogError("Batch of {Count} messages not applied (attempt {Attempt}): {Error}. Nothing committed; retrying in {Pause}",
                    batch.Count, attempt, e.Message, _options.RetryPause);
                stopping.WaitHandle.WaitOne(_options.RetryPause);
            }
        }
    }

    private void Apply(IConsumer<byte[], byte[]> consumer, IProducer<byte[], byte[]> producer, IngestBatch batch)
    {
        var started = Stopwatch.GetTimestamp();
        var topics = kafka.Topics;

        // 1. Durable in Redis (one pipelined round trip; retried by the pipeline; idempotent per partition offset).
        var valid = batch.Items.Where(i => i.Validation.IsValid).Select(i => (i.Message, Event: i.Validation.Event!)).ToArray();
        var appends = valid.Select(v => new SequenceAppend(v.Event.UserId, v.Event.ItemId, v.Event.Timestamp, v.Message.Topic, v.Message.Partition.Value, v.Message.Offset.Value)).ToArray();
        var outcomes = sequences.AppendAsync(appends).GetAwaiter().GetResult();

        // 2. Dead letters for the malformed, one signal per user touched. Users whose events were all redeliveries
        //    are signalled too: the crash that caused the redelivery may have come before their first signal.
        var now = DateTimeOffset.UtcNow;
        var outgoing = new List<(string Topic, byte[]? Key, byte[] Value)>();
        foreach (var (message, validation) in batch.Items.Where(i => !i.Validation.IsValid))
        {
            logger.LogWarning("Dead-lettering {Topic}[{Partition}]@{Offset}: {Reason}", message.Topic, message.Partition.Value, message.Offset.Value, validation.Reason);
            var letter = new DeadLetter
            {
                Code = validation.Code,
                Reason = validation.Reason!,
                Topic = message.Topic,
                Partition = message.Partition.Value,
                Offset = message.Offset.Value,
                OriginalKey = message.Message.Key,
                Original = message.Message.Value ?? [],
                Source = Source,
                FailedAt = now,
            };
            outgoing.Add((topics.DeadLetter, message.Message.Key, JsonSerializer.SerializeToUtf8Bytes(letter, StreamingJsonContext.Default.DeadLetter)));
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
            outgoing.Add((topics.UsersChanged, Encoding.UTF8.GetBytes(outcome.UserId), JsonSerializer.SerializeToUtf8Bytes(signal, StreamingJsonContext.Default.UserChanged)));
        }
        ProduceAll(producer, outgoing);

        // 3. Everything above is durable: commit.
        Commit(consumer, batch.NextOffsets());

        var applied = outcomes.Sum(o => o.Appended);
        metrics.BatchCommitted(applied, valid.Length - applied, batch.Count - valid.Length, outcomes.Count, Stopwatch.GetElapsedTime(started));
        logger.LogDebug("Batch of {Count}: {Applied} applied, {Redelivered} redeliveries, {DeadLetters} dead letters, {Signals} signals",
            batch.Count, applied, valid.Length - applied, batch.Count - valid.Length, outcomes.Count);
    }

    /// <summary>Produces and waits for every delivery report; a retry re-sends only the messages not yet acknowledged.</summary>
    private void ProduceAll(IProducer<byte[], byte[]> producer, List<(string Topic, byte[]? Key, byte[] Value)> outgoing)
    {
        if (outgoing.Count == 0) return;
        var pending = outgoing;
        resilience.Kafka.ExecuteAsync(async token =>
        {
            var deliveries = pending.Select(m => producer.ProduceAsync(m.Topic, new Message<byte[], byte[]> { Key = m.Key!, Value = m.Value }, token)).ToArray();
            try
            {
                await Task.WhenAll(deliveries).WaitAsync(token).ConfigureAwait(false);
            }
            catch
            {
                pending = pending.Where((_, i) => !deliveries[i].IsCompletedSuccessfully).ToList();
                throw;
            }
        }).AsTask().GetAwaiter().GetResult();
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
