using System.Diagnostics;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PopSteer.Streaming.Batching;
using PopSteer.Streaming.Contracts;
using PopSteer.Streaming.Kafka;
using PopSteer.Streaming.Resilience;
using PopSteer.Streaming.Sequences;

namespace PopSteer.Scorer;

/// <summary>
/// The scoring loop: users-changed signals -> micro-batch -> one pipelined Redis read -> one model call -> publish
/// recommendations -> commit once every delivery report is in. Under a backlog the next full batch is taken before the
/// model call and its read started, so the Redis round trip overlaps the scoring (<c>Scoring:ReadAhead</c>). One Kafka consumer for the process's life, on its own
/// thread; <see cref="ExecuteAsync"/> returns that thread's task, so host shutdown waits for the batches in hand to be
/// delivered and committed. Up to <c>Scoring:BatchesInFlight</c> batches are published at once: while one batch's
/// delivery reports come in, the next is read and scored (<see cref="PendingBatch"/>); offsets are committed in
/// batch order, each only after its own reports. A failed batch is not committed: every batch in hand is rewound to
/// its first offsets and consumed again; after <c>Scoring:MaxBatchAttempts</c> non-transient failures a batch is
/// scored user by user and the users that still fail are dead-lettered (<see cref="BatchFailurePolicy"/>,
/// <see cref="PoisonBatchIsolator"/>). With <c>Scoring:ConcurrentBatches</c> above 1 the read and model call of each
/// full batch (a backlog) run on a pool thread instead (<see cref="ScoringBatch"/>), up to that many at once, and the
/// loop publishes finished batches in the order it started them; a failed one rewinds everything in hand as above. A
/// smaller batch (a stream) waits until none is being scored and is scored on the loop thread, as with 1.
/// </summary>
public sealed class ScorerWorker(
    KafkaClientFactory kafka,
    SequenceStore sequences,
    ModelHolder models,
    SteeringControl steering,
    BatchScorer scorer,
    PoisonBatchIsolator isolator,
    ScorerMetrics metrics,
    ShadowSample shadow,
    StreamingResilience resilience,
    IOptions<ScoringOptions> options,
    IOptionsMonitor<SteeringOptions> steeringOptions,
    ILogger<ScorerWorker> logger) : BackgroundService
{
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(200);
    // With batches awaiting their delivery reports an empty poll hands back to the loop this soon, so their commits
    // are not held up by a quiet input.
    private static readonly TimeSpan PendingPoll = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan FailureBackoff = TimeSpan.FromSeconds(1);

    private readonly ScoringOptions _options = options.Value;
    private readonly DynamicBatcher _batcher = new(options.Value.MaxBatchSize, options.Value.PreferredBatchSize, options.Value.MaxBatchWait, options.Value.ArrivalGap);
    private readonly string _instance = Guid.NewGuid().ToString("N")[..8];
    private readonly Queue<PendingBatch> _pending = new();
    private readonly Queue<ScoringBatch> _scoring = new(); // started, not yet published; in batch order (Scoring:ConcurrentBatches)
    private bool _concurrent; // Scoring:ConcurrentBatches above 1, on a model with the managed CPU path (set once the first model is in)
    private Task _steeringTaken = Task.CompletedTask; // by the batch started last (Scoring:ConcurrentBatches)
    private readonly BatchFailurePolicy _failures = new(options.Value.MaxBatchAttempts);
    private List<ConsumeResult<string, byte[]>> _batch = [];
    private PreparedBatch? _next;     // taken while the last batch was scored (Scoring:ReadAhead)
    private long _inHandChanges;     // rewinds, revocations and losses so far: a read-ahead poll can run one
    private long _batchNumber;
    private ErrorCode _lastConsumeError = ErrorCode.NoError;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        SteeringControl.ValidateAtStartup(steeringOptions.CurrentValue);
        if (_options.TorchThreads > 0) PopSteer.Core.TorchRuntime.ConfigureThreads(_options.TorchThreads);
        return base.StartAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stoppingToken)
    {
        Thread.CurrentThread.Name = "ps-scorer"; // the OS thread name too: per-thread CPU (top -H, the demo) tells the loops apart
        try
        {
            logger.LogInformation("Scorer {Instance} waiting for a model from the registry", _instance);
            models.WaitForFirstModelAsync(stoppingToken).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            return;
        }
        // Check the configured steering against the model now, not at the first signal: a value the model cannot
        // use (N wider than its SAE) is reported, and what will be served instead is said, before any traffic.
        try
        {
            var model = models.AcquireForBatch();
            // Scoring beside each other shares the cores between managed calls, one thread each. A GPU call, or a
            // libtorch one with its own intra-op threads, is made one batch at a time.
            _concurrent = _options.ConcurrentBatches > 1 && model.Model.HasSmallBatchPath && _options.SmallBatchLimit >= _options.MaxBatchSize;
            if (_options.ConcurrentBatches > 1 && !_concurrent)
                logger.LogInformation("Scorer {Instance}: Scoring:ConcurrentBatches = {Concurrent} applies only when every batch takes the managed CPU path " +
                    "(a CPU model and Scoring:SmallBatchLimit >= Scoring:MaxBatchSize); batches are scored one at a time", _instance, _options.ConcurrentBatches);
            var first = steering.Resolve(model);
            logger.LogInformation("Scorer {Instance} serving model {Version} with alpha = {Alpha}, N = {Neurons}", _instance, models.ServingVersion, first.Alpha, first.Neurons);
        }
        catch (InvalidOperationException e)
        {
            logger.LogError("Scorer {Instance}: {Error}", _instance, e.Message);
        }

        var topics = kafka.Topics;
        using var producer = kafka.CreateProducer();
        using var consumer = kafka.CreateConsumer<string, byte[]>(
            _options.GroupId,
            build: b => b.SetPartitionsRevokedHandler((c, revoked) => Revoked(c, producer, revoked))
                         .SetPartitionsLostHandler((_, lost) => Lost(lost)));
        consumer.Subscribe(topics.UsersChanged);
        logger.LogInformation("Scorer {Instance} consuming {Topic} as group {Group}", _instance, topics.UsersChanged, _options.GroupId);

        while (!stoppingToken.IsCancellationRequested)
        {
            // Commit what is delivered, publish what is scored; make room if the most batches allowed are still awaiting
            // their reports. (Room among the batches being scored is made once the next batch's read has started.)
            if (!Settle(consumer, mostPending: _options.BatchesInFlight - 1) || !Harvest(consumer, producer, mostScoring: int.MaxValue))
            {
                stoppingToken.WaitHandle.WaitOne(FailureBackoff);
                continue;
            }
            PreparedBatch? prepared = null;
            if (_next is { Read: not null } ready)
            {
                // Read ahead while the last batch was scored: a full batch, its sequences already on their way.
                _batch = ready.Signals;
                prepared = ready;
                _next = null;
            }
            else
            {
                if (_next is not null) _batch = _next.Signals; // a part of the next batch, taken early: the policy fills it up
                _next = null;
                Assemble(consumer, producer, stoppingToken);
                if (_batch.Count == 0) continue;
            }
            // Once assembled, the batch is finished even if shutdown was requested meanwhile.
            bool isolating = _failures.Isolating;
            prepared ??= PreparedBatch.Start(_batch, isolating ? null : sequences);
            if (_concurrent && !isolating)
            {
                // Its sequences are on their way while the oldest batch being scored finishes, if the most are in hand.
                // Only a full batch (a backlog) starts beside others; a stream's smaller batch waits until none is
                // being scored and is then scored here, on the loop thread, split over the model's threads, exactly as
                // one at a time: handing a stream's batches to a pool thread cost tail latency and gained nothing.
                // A new model version is swapped in only by a batch that starts alone: the ones being scored finish first.
                bool beside = _batch.Count >= _options.MaxBatchSize && !models.SwapWaiting;
                if (!Harvest(consumer, producer, mostScoring: beside ? _options.ConcurrentBatches - 1 : 0))
                {
                    stoppingToken.WaitHandle.WaitOne(FailureBackoff);
                    continue;
                }
                if (beside)
                {
                    _scoring.Enqueue(StartScoring(prepared));
                    _batch = [];
                    continue;
                }
            }
            // Scored user by user, on this thread, after everything before it (after a rewind nothing is being scored).
            if (isolating && !Harvest(consumer, producer, mostScoring: 0))
            {
                stoppingToken.WaitHandle.WaitOne(FailureBackoff);
                continue;
            }
            if (!isolating && _options.ReadAhead && !_concurrent)
            {
                prepared = ReadAhead(consumer, prepared);
                if (_batch.Count == 0) continue; // its partitions were revoked meanwhile
            }
            var (pending, error) = TryProcess(producer, prepared);
            if (pending is not null)
            {
                _pending.Enqueue(pending);
                _batch = [];
                // A batch scored user by user is settled before anything else: its outcome decides the next attempt.
                if (isolating && !Settle(consumer, mostPending: 0)) stoppingToken.WaitHandle.WaitOne(FailureBackoff);
                continue;
            }
            // The batches before it are settled first (their deliveries do not depend on this failure, and their
            // success must not reset the count this failure adds), then this one goes back to be consumed again.
            if (Settle(consumer, mostPending: 0))
            {
                Failed(_batchNumber, _batch.Count, error!);
                RewindAll(consumer);
            }
            stoppingToken.WaitHandle.WaitOne(FailureBackoff);
        }

        if (Harvest(consumer, producer, mostScoring: 0)) Settle(consumer, mostPending: 0);
        producer.Flush(TimeSpan.FromSeconds(10));
        consumer.Close();
        logger.LogInformation("Scorer {Instance} stopped after {Batches} batches", _instance, _batchNumber);
    }

    /// <summary>Collects signals until the dynamic batching policy (<see cref="DynamicBatcher"/>) hands the batch on.</summary>
    private void Assemble(IConsumer<string, byte[]> consumer, IProducer<string, byte[]> producer, CancellationToken stoppingToken)
    {
        var clock = Stopwatch.StartNew();
        var previous = BatchPoll.Item;
        while (!stoppingToken.IsCancellationRequested)
        {
            // A batch scored beside this one is published as soon as it is done, not when this one is handed on.
            if (_scoring.TryPeek(out var scoring) && scoring.Work.IsCompleted && !Harvest(consumer, producer, mostScoring: int.MaxValue))
            {
                stoppingToken.WaitHandle.WaitOne(FailureBackoff); // everything in hand, this batch too, was rewound
                return;
            }
            bool waiting = _pending.Count > 0 || _scoring.Count > 0;
            var next = _batch.Count == 0 ? (waiting ? PendingPoll : IdlePoll) : _batcher.NextPoll(_batch.Count, clock.Elapsed, previous);
            if (next is not { } timeout) break;
            ConsumeResult<string, byte[]>? result;
            try
            {
                result = consumer.Consume(timeout);
            }
            catch (ConsumeException e) when (!e.Error.IsFatal)
            {
                // E.g. the topic does not exist yet (no signal was ever produced): librdkafka recovers by itself.
                if (e.Error.Code != _lastConsumeError) logger.LogWarning("Consuming {Topic}: {Reason}", kafka.Topics.UsersChanged, e.Error.Reason);
                _lastConsumeError = e.Error.Code;
                if (_batch.Count > 0 || waiting) break;
                stoppingToken.WaitHandle.WaitOne(IdlePoll);
                continue;
            }
            _lastConsumeError = ErrorCode.NoError;
            previous = DynamicBatcher.Outcome(result is not null, timeout);
            if (result is null && _batch.Count == 0 && waiting) break; // back to the loop: commit what is delivered
            if (result is null) continue; // idle, or the policy decides on the next turn
            if (result.IsPartitionEOF) continue;
            if (_batch.Count == 0) clock.Restart();
            _batch.Add(result);
        }
        // From the first signal to the hand-on: what the batching policy made the batch wait.
        if (_batch.Count > 0) metrics.Stage("collect", clock.Elapsed.TotalMilliseconds);
    }

    /// <summary>
    /// When a backlog already holds the next batch (a full one, in the client's buffer: polls that do not wait), takes
    /// it now and starts its Redis read, so that the read's round trip runs while <paramref name="current"/> is
    /// scored. Less than a full batch is kept, unread, as the start of the next one, which the batching policy fills
    /// up as usual. A rebalance (or a rewind in its revocation handler) can run inside a poll; then the polling stops,
    /// the batch to score is prepared again from what is left of it, and only the signals polled after the change are
    /// kept. Returns the batch to score now.
    /// </summary>
    private PreparedBatch ReadAhead(IConsumer<string, byte[]> consumer, PreparedBatch current)
    {
        long before = _inHandChanges;
        var next = new List<ConsumeResult<string, byte[]>>();
        // In hand from the first poll on, so rewinds and revocations see it; until it is full only its Signals count
        // (it is parsed, and its read started, once full).
        _next = PreparedBatch.Start(next, null);
        while (next.Count < _options.MaxBatchSize)
        {
            ConsumeResult<string, byte[]>? result;
            try
            {
                result = consumer.Consume(TimeSpan.Zero);
            }
            catch (ConsumeException e) when (!e.Error.IsFatal)
            {
                result = null; // Assemble reports it if it comes again
            }
            if (_inHandChanges != before)
            {
                var kept = _next?.Signals ?? []; // the survivors of a revocation; nothing after a rewind
                if (result is { IsPartitionEOF: false }) kept.Add(result);
                _next = kept.Count > 0 ? PreparedBatch.Start(kept, null) : null;
                return PreparedBatch.Start(_batch, sequences);
            }
            if (result is null) break;
            if (!result.IsPartitionEOF) next.Add(result);
        }
        if (next.Count >= _options.MaxBatchSize)
        {
            _next = PreparedBatch.Start(next, sequences);
            metrics.BatchReadAhead();
        }
        else if (next.Count == 0) _next = null;
        return current;
    }

    /// <summary>
    /// Reads, scores and hands the batch's messages to the producer, on the loop thread, or the exception that stopped
    /// it (nothing is committed then). Delivery and commit are <see cref="Settle"/>'s.
    /// </summary>
    private (PendingBatch? Pending, Exception? Error) TryProcess(IProducer<string, byte[]> producer, PreparedBatch prepared)
    {
        var started = Stopwatch.GetTimestamp();
        long number = ++_batchNumber;
        try
        {
            var model = models.AcquireForBatch();
            if (prepared.Read is null) return (Isolate(producer, number, prepared, model, started), null);
            // What is left of the read started when the batch was prepared (all of it, unless it was read ahead).
            var stage = Stopwatch.GetTimestamp();
            var stored = prepared.Read.GetAwaiter().GetResult();
            stage = Lap("read", stage);
            // The steering is taken when the batch is scored, not when it was consumed: the sequence read can wait out
            // a Redis outage, and a batch stamped after an alpha edit was applied must carry that edit (chaos drill).
            var active = steering.Resolve(model);
            var scored = Score(model, active, prepared, stored, BatchId(number), parallelism: null, stage);
            return (Publish(producer, number, prepared, model, active, scored, started), null);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return (null, e);
        }
    }

    /// <summary>
    /// Starts the batch's read and model call on a pool thread (Scoring:ConcurrentBatches). Alone, the batch is split
    /// over the model's threads; beside a batch still being scored it gets one thread, so the two share the cores
    /// without each waiting on the other's half. A waiting model version is swapped in only by a batch that starts
    /// alone: the ones still being scored hold the serving version.
    /// </summary>
    private ScoringBatch StartScoring(PreparedBatch prepared)
    {
        var started = Stopwatch.GetTimestamp();
        long number = ++_batchNumber;
        bool alone = _scoring.All(s => s.Work.IsCompleted);
        var model = models.AcquireForBatch(swap: alone);
        if (!alone) metrics.BatchScoredBeside();
        var batchId = BatchId(number);
        var before = _steeringTaken;
        var taken = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _steeringTaken = taken.Task;
        var work = Task.Run(() => ReadAndScoreAsync(model, prepared, batchId, alone ? null : 1, before, taken));
        return new ScoringBatch(number, prepared, model, started, work);
    }

    /// <summary>
    /// Awaits the read started when the batch was prepared, then scores: a pool thread's work. The steering is taken
    /// only after the batch started before this one took its own (<paramref name="before"/>; it completes even if
    /// that batch failed), so the batches, published in order, never step back to a steering value already replaced.
    /// </summary>
    private async Task<(ActiveSteering Steering, IReadOnlyList<ScoredUser> Scored)> ReadAndScoreAsync(ServingModel model, PreparedBatch prepared, string batchId,
        int? parallelism, Task before, TaskCompletionSource taken)
    {
        ActiveSteering active;
        IReadOnlyList<UserSequence> stored;
        long stage = Stopwatch.GetTimestamp();
        try
        {
            stored = await prepared.Read!.ConfigureAwait(false);
            stage = Lap("read", stage);
            await before.ConfigureAwait(false);
            active = steering.Resolve(model);
        }
        finally
        {
            taken.TrySetResult();
        }
        return (active, Score(model, active, prepared, stored, batchId, parallelism, stage));
    }

    private IReadOnlyList<ScoredUser> Score(ServingModel model, ActiveSteering active, PreparedBatch prepared,
        IReadOnlyList<UserSequence> stored, string batchId, int? parallelism, long stage)
    {
        var scored = scorer.Score(model, active, prepared.Users, stored, batchId, DateTimeOffset.UtcNow, parallelism);
        Lap("score", stage);
        return scored;
    }

    /// <summary>Hands a scored batch's recommendations, then the dead letters of its invalid signals, to the producer.</summary>
    private PendingBatch Publish(IProducer<string, byte[]> producer, long number, PreparedBatch prepared, ServingModel model, ActiveSteering active,
        IReadOnlyList<ScoredUser> scored, long started)
    {
        var deliveries = new List<Task>(scored.Count + prepared.Invalid.Count);
        foreach (var s in scored)
            deliveries.Add(Produce(producer, kafka.Topics.Recommendations, ToMessage(s)));
        foreach (var letter in InvalidLetters(prepared))
            deliveries.Add(Produce(producer, kafka.Topics.DeadLetter, letter));
        return new PendingBatch(number, prepared.Signals, deliveries, started, model, active, prepared.Users, scored);
    }

    /// <summary>This batch failed every attempt: finds the users that cannot be served and sets only them aside.</summary>
    private PendingBatch Isolate(IProducer<string, byte[]> producer, long number, PreparedBatch prepared, ServingModel model, long started)
    {
        var stage = Stopwatch.GetTimestamp();
        var batchId = BatchId(number);
        var users = prepared.Users;
        metrics.BatchIsolated();
        var active = steering.Resolve(model);
        logger.LogWarning("Batch {Batch}: {Failures} attempts failed; scoring its {Users} users one by one", batchId, _failures.Failures, users.Count);
        // Each user's delivery is awaited as it is published, so a user that cannot be published is found out too.
        var (published, failed) = isolator.ScoreOneByOne(model, active, users, batchId,
            s => Produce(producer, kafka.Topics.Recommendations, ToMessage(s)));
        var deadLetters = InvalidLetters(prepared).ToList();
        foreach (var (user, reason) in failed)
        {
            metrics.UserDeadLettered();
            logger.LogError("User {User} dead-lettered: cannot be scored or published ({Reason})", user.UserId, reason);
            var why = $"Scoring user '{user.UserId}' failed {_failures.Failures} times with its batch and once alone: {reason}";
            deadLetters.AddRange(prepared.SignalsOf[user.UserId].Select(r => ScorerDeadLetters.For(r, InvalidEventReason.ScoringFailed, why, _options.DeadLetterMaxPayloadBytes)));
        }
        Lap("score", stage);
        var deliveries = deadLetters.Select(letter => Produce(producer, kafka.Topics.DeadLetter, letter)).ToList();
        return new PendingBatch(number, prepared.Signals, deliveries, started, model, active, users, published);
    }

    private IEnumerable<Message<string, byte[]>> InvalidLetters(PreparedBatch prepared) =>
        prepared.Invalid.Select(i => ScorerDeadLetters.For(i.Result, InvalidEventReason.MalformedJson, i.Reason, _options.DeadLetterMaxPayloadBytes));

    private static Message<string, byte[]> ToMessage(ScoredUser s) => new() { Key = s.Recommendation.UserId, Value = ScorerJsonContext.Serialize(s.Recommendation) };

    /// <summary>
    /// Publishes, in the order they were started, the batches whose read and model call have finished, waiting for the
    /// oldest while more than <paramref name="mostScoring"/> are in hand; each is published only once at most
    /// <c>Scoring:BatchesInFlight</c> - 1 batches await their reports. A batch whose read or model call failed is
    /// handled as on the loop thread: the batches before it are settled, then it and everything after it are rewound
    /// to be consumed again (false). Loop thread only.
    /// </summary>
    private bool Harvest(IConsumer<string, byte[]> consumer, IProducer<string, byte[]> producer, int mostScoring)
    {
        while (_scoring.TryPeek(out var head))
        {
            if (!head.Work.IsCompleted)
            {
                if (_scoring.Count <= mostScoring) return true;
                head.WaitFinished();
            }
            Exception error;
            try
            {
                var (active, scored) = head.Work.GetAwaiter().GetResult();
                if (!Settle(consumer, mostPending: _options.BatchesInFlight - 1)) return false; // rewound, this batch too
                _pending.Enqueue(Publish(producer, head.Number, head.Prepared, head.Model, active, scored, head.StartedAt));
                _scoring.Dequeue();
                continue;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                error = e;
            }
            if (Settle(consumer, mostPending: 0))
            {
                Failed(head.Number, head.Signals.Count, error);
                RewindAll(consumer);
            }
            return false;
        }
        return true;
    }

    /// <summary>
    /// Commits, in batch order, every pending batch whose delivery reports are all in, waiting for the oldest while
    /// more than <paramref name="mostPending"/> are pending. A batch whose delivery failed is not committed: it and
    /// every batch after it are rewound to be consumed again (false). Loop thread only.
    /// </summary>
    private bool Settle(IConsumer<string, byte[]> consumer, int mostPending)
    {
        while (_pending.TryPeek(out var head))
        {
            if (!head.Deliveries.IsCompleted)
            {
                if (_pending.Count <= mostPending) return true;
                ((IAsyncResult)head.Deliveries).AsyncWaitHandle.WaitOne();
            }
            try
            {
                head.Deliveries.GetAwaiter().GetResult();
                metrics.Stage("publish", Stopwatch.GetElapsedTime(head.ProducedAt, Math.Max(head.DeliveredAt, head.ProducedAt)).TotalMilliseconds);
                var commit = Stopwatch.GetTimestamp();
                var offsets = head.CommitOffsets();
                if (offsets.Length > 0) resilience.Kafka.Execute(() => consumer.Commit(offsets));
                Lap("commit", commit);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Failed(head.Number, head.Signals.Count, e);
                RewindAll(consumer);
                return false;
            }
            _pending.Dequeue();
            _failures.Succeeded();
            Account(head);
        }
        return true;
    }

    /// <summary>The live metrics of a committed batch: served exposure, latency, batch counters, the shadow sample.</summary>
    private void Account(PendingBatch batch)
    {
        var stage = Stopwatch.GetTimestamp();
        if (batch.Model.Version != metrics.ModelVersion) metrics.Served.Reset(batch.Model.Model.Groups);
        var now = DateTimeOffset.UtcNow;
        foreach (var s in batch.Scored)
        {
            metrics.Served.Add(s.InternalItems);
            if (s.Recommendation.EnqueuedAt is { } enqueued) metrics.Latency((now - enqueued).TotalMilliseconds);
        }
        metrics.BatchDone(batch.Signals.Count, batch.Scored.Count, batch.Users.Count - batch.Scored.Count(s => !s.Recommendation.Fallback),
            Stopwatch.GetElapsedTime(batch.StartedAt).TotalMilliseconds, batch.Steering, batch.Model.Version);
        shadow.Observe(batch.Model, batch.Scored);
        Lap("account", stage);
    }

    private void Failed(long number, int signals, Exception e)
    {
        var batchId = BatchId(number);
        metrics.BatchFailed();
        bool transient = _failures.Failed(e);
        if (transient)
            logger.LogError(e, "Batch {Batch} of {Signals} signals failed (transient); nothing committed, it will be consumed again", batchId, signals);
        else
            logger.LogError(e, "Batch {Batch} of {Signals} signals failed (attempt {Attempt} of {Max}); nothing committed, it will be consumed again{Then}",
                batchId, signals, _failures.Failures, _options.MaxBatchAttempts,
                _failures.Isolating ? ", then scored user by user" : "");
    }

    private string BatchId(long number) => $"{_instance}-{number}";

    private long Lap(string stage, long since)
    {
        metrics.Stage(stage, Stopwatch.GetElapsedTime(since).TotalMilliseconds);
        return Stopwatch.GetTimestamp();
    }

    private Task Produce(IProducer<string, byte[]> producer, string topic, Message<string, byte[]> message) =>
        resilience.Kafka.ExecuteAsync(async ct => { await producer.ProduceAsync(topic, message, ct); }).AsTask();

    /// <summary>
    /// Seeks every partition of the batches in hand (the pending ones and the one being assembled or processed) back
    /// to its first offset among them, and drops them: they are consumed again. Some of the pending batches may have
    /// been delivered already; their recommendations are then sent twice, never lost (at least once).
    /// </summary>
    private void RewindAll(IConsumer<string, byte[]> consumer)
    {
        // A batch being scored is let finish (its model version may be swapped out next) and then dropped with the rest.
        foreach (var scoring in _scoring) scoring.WaitFinished();
        var inHand = _pending.SelectMany(p => p.Signals).Concat(_scoring.SelectMany(s => s.Signals)).Concat(_batch).Concat(_next?.Signals ?? []);
        foreach (var first in inHand.GroupBy(r => r.TopicPartition).Select(g => new TopicPartitionOffset(g.Key, g.Min(r => r.Offset.Value))))
        {
            try
            {
                consumer.Seek(first);
            }
            catch (KafkaException e)
            {
                // Not ours any more (rebalanced): the new owner starts from the last committed offset anyway.
                logger.LogWarning("Could not rewind {Partition}: {Reason}", first.TopicPartition, e.Error.Reason);
            }
        }
        _pending.Clear();
        _scoring.Clear();
        _batch = [];
        _next = null;
        _inHandChanges++;
    }

    // Runs inside Consume on the loop thread, before the partitions go: the batches being scored are published and
    // what is delivered is committed now (the assignment still holds); the rest goes back to the group uncommitted
    // and its new owner scores it again.
    private void Revoked(IConsumer<string, byte[]> consumer, IProducer<string, byte[]> producer, List<TopicPartitionOffset> revoked)
    {
        if ((_pending.Count > 0 || _scoring.Count > 0) && !(Harvest(consumer, producer, mostScoring: 0) && Settle(consumer, mostPending: 0)))
            logger.LogWarning("Partitions revoked while a batch's delivery failed; its signals go back to the group uncommitted");
        Drop(revoked);
    }

    // Lost (the session expired): committing is no longer possible, so the pending batches are dropped uncommitted.
    private void Lost(List<TopicPartitionOffset> lost)
    {
        if (_pending.Count + _scoring.Count > 0) logger.LogWarning("Partitions lost with {Batches} batches being scored or awaiting delivery; their signals go back to the group uncommitted", _pending.Count + _scoring.Count);
        _pending.Clear();
        foreach (var scoring in _scoring) scoring.WaitFinished();
        _scoring.Clear();
        Drop(lost);
    }

    private void Drop(IEnumerable<TopicPartitionOffset> gone)
    {
        _inHandChanges++;
        var partitions = gone.Select(p => p.TopicPartition).ToHashSet();
        _batch.RemoveAll(r => partitions.Contains(r.TopicPartition));
        _next?.Signals.RemoveAll(r => partitions.Contains(r.TopicPartition));
    }
}
