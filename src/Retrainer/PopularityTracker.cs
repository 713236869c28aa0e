using System.Diagnostics;
using Confluent.Kafka;
using Microsoft.Extensions.Options;
using PopSteer.Streaming.Contracts;
using PopSteer.Streaming.Kafka;
using PopSteer.Streaming.Resilience;

namespace PopSteer.Retrainer;

/// <summary>
/// Follows item popularity as it drifts: consumes popsteer.interactions in its own consumer group (one consumer for
/// the process's life, on its own thread; ExecuteAsync returns that thread's task), keeps exponentially decayed
/// counts per external item id, and every CheckpointInterval makes them durable in Redis and only then commits the
/// offsets. A restart resumes from the checkpoint; messages redelivered after a crash between checkpoint and commit
/// are recognised by offset and not counted twice. Malformed messages are skipped and counted (Ingest dead-letters them).
/// Counts only while this instance holds the <see cref="RetrainerLease"/> (the checkpoint is the state of all
/// partitions together, so exactly one instance may write it); a standby waits outside the consumer group.
/// </summary>
public sealed class PopularityTracker(
    KafkaClientFactory kafka,
    PopularityCheckpoint checkpoint,
    RetrainerLease lease,
    IOptions<RetrainerOptions> options,
    RetrainerMetrics metrics,
    ILogger<PopularityTracker> logger) : BackgroundService
{
    private readonly RetrainerOptions _options = options.Value;
    private readonly object _gate = new();
    private readonly TaskCompletionSource _restored = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private PopularityState _state = new(new DecayedCounts(options.Value.PopularityHalfLife, DateTimeOffset.UnixEpoch));

    /// <summary>Completes once the checkpoint (if any) is loaded and counting has started.</summary>
    public Task Restored => _restored.Task;

    /// <summary>The decayed counts at the latest event time, and the event totals.</summary>
    public PopularitySnapshot Snapshot()
    {
        lock (_gate)
            return new PopularitySnapshot(_state.Counts.CountsAt(), _state.Counts.Latest, _state.Events, _state.EventsSinceRefit);
    }

    /// <summary>Users with events not yet in a checkpoint (the checkpoint's user set lags by up to CheckpointInterval).</summary>
    public IReadOnlyList<string> PendingUsers()
    {
        lock (_gate) return _state.RecentUsers.OrderByDescending(kv => kv.Value).Select(kv => kv.Key).ToArray();
    }

    /// <summary>A refit was attempted: the next one waits for MinEventsBetweenRefits new events (made durable at the next checkpoint).</summary>
    public void RefitAttempted()
    {
        lock (_gate) _state.EventsSinceRefit = 0;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stopping)
    {
        Thread.CurrentThread.Name = "ps-popularity"; // the OS thread name too: per-thread CPU (top -H, the demo) tells the loops apart
        // One tenure of the lease per pass: a standby waits here without joining the consumer group; a holder that
        // loses the lease stops writing, leaves the group, and competes again (then restores the newest checkpoint).
        while (!stopping.IsCancellationRequested)
        {
            RetrainerLease.Held held;
            try
            {
                held = lease.WaitHeldAsync(stopping).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
                return;
            }
            using var tenure = CancellationTokenSource.CreateLinkedTokenSource(stopping, held.Lost);
            try
            {
                if (!Restore(tenure.Token)) continue;
            }
            catch (Exception e)
            {
                _restored.TrySetException(e);
                throw;
            }
            Consume(held, tenure.Token, stopping);
        }
    }

    private void Consume(RetrainerLease.Held held, CancellationToken tenure, CancellationToken stopping)
    {
        var validator = new InteractionEventValidator();
        using var consumer = kafka.CreateConsumer(_options.GroupId, c => c.ClientId ??= "popsteer-retrainer", b => b
            // Runs inside Consume/Close on this thread: make what we counted durable while the partitions are ours.
            .SetPartitionsRevokedHandler((c, revoked) => CheckpointAndCommit(c, revoked.Select(p => p.TopicPartition), held, stopping))
            .SetPartitionsAssignedHandler((_, assigned) =>
                logger.LogInformation("Retrainer tracker assigned {Partitions}", string.Join(", ", assigned.Select(p => $"{p.Topic}[{p.Partition.Value}]")))),
            // Counting popularity only has to keep up; the broker's time goes to Ingest and the Scorer.
            ConsumerProfile.Throughput);
        consumer.Subscribe(kafka.Topics.Interactions);
        _restored.TrySetResult();
        logger.LogInformation("Popularity tracker consuming {Topic} as group {Group} (lease token {Token}); half-life {HalfLife}, checkpoint {Keys}",
            kafka.Topics.Interactions, _options.GroupId, held.Token, _options.PopularityHalfLife, checkpoint);

        long due = Stopwatch.GetTimestamp() + Ticks(_options.CheckpointInterval);
        bool dirty = false;
        try
        {
            while (!tenure.IsCancellationRequested)
            {
                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
                try
                {
                    var result = consumer.Consume(wait > TimeSpan.Zero ? wait : TimeSpan.Zero);
                    if (result?.Message is not null)
                    {
                        Count(result, validator);
                        dirty = true;
                    }
                }
                catch (ConsumeException e) when (!e.Error.IsFatal)
                {
                    logger.LogWarning("Consume error {Code}: {Reason}", e.Error.Code, e.Error.Reason);
                }
                if (Stopwatch.GetTimestamp() >= due)
                {
                    if (dirty && CheckpointAndCommit(consumer, consumer.Assignment, held, stopping)) dirty = false;
                    due = Stopwatch.GetTimestamp() + Ticks(_options.CheckpointInterval);
                }
            }
        }
        catch (OperationCanceledException) when (tenure.IsCancellationRequested)
        {
        }
        finally
        {
            // A lost lease writes nothing more: the new holder owns the checkpoint.
            if (dirty && !held.Lost.IsCancellationRequested) CheckpointAndCommit(consumer, consumer.Assignment, held, CancellationToken.None);
            consumer.Close();
            logger.LogInformation("Popularity tracker stopped after {Events} events{Why}", Snapshot().Events,
                held.Lost.IsCancellationRequested ? " (lease lost)" : "");
        }
    }

    private bool Restore(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                var saved = checkpoint.LoadAsync(stopping).GetAwaiter().GetResult();
                // No checkpoint: start from nothing (a former tenure's unsaved counts were never durable).
                lock (_gate) _state = saved is null ? new PopularityState(new DecayedCounts(_options.PopularityHalfLife, DateTimeOffset.UnixEpoch)) : FromCheckpoint(saved);
                if (saved is not null)
                    logger.LogInformation("Popularity restored from Redis: {Items} items, {Events} events, latest event {Latest:o}",
                        saved.Scaled.Count, saved.Events, saved.Latest);
                return true;
            }
            catch (Exception e) when (StreamingResilience.IsTransientRedis(e) || e is Polly.CircuitBreaker.BrokenCircuitException)
            {
                logger.LogError("Cannot read the popularity checkpoint ({Error}); retrying", e.Message);
                stopping.WaitHandle.WaitOne(TimeSpan.FromSeconds(1));
            }
        }
        return false;
    }

    private PopularityState FromCheckpoint(CheckpointData saved)
    {
        DecayedCounts counts;
        if (saved.HalfLife == _options.PopularityHalfLife)
        {
            counts = new DecayedCounts(saved.HalfLife, saved.Landmark, saved.Scaled.ToDictionary());
        }
        else
        {
            // Weights are relative to the old decay rate: read them as counts at the latest event and go on from there.
            var old = new DecayedCounts(saved.HalfLife, saved.Landmark, saved.Scaled.ToDictionary());
            var at = saved.Latest > saved.Landmark ? saved.Latest : saved.Landmark;
            counts = new DecayedCounts(_options.PopularityHalfLife, at, old.CountsAt(at));
            logger.LogWarning("Popularity half-life changed from {Old} to {New}: the counts restart from their value at {At:o}", saved.HalfLife, _options.PopularityHalfLife, at);
        }
        counts.Restore(saved.Latest);
        var state = new PopularityState(counts) { Events = saved.Events, EventsSinceRefit = saved.EventsSinceRefit };
        foreach (var (k, v) in saved.NextOffsets) state.NextOffsets[k] = v;
        return state;
    }

    private void Count(ConsumeResult<byte[], byte[]> result, InteractionEventValidator validator)
    {
        var field = PopularityState.SourceField(result.Topic, result.Partition.Value);
        var validation = validator.Validate(result.Message.Key, result.Message.Value);
        lock (_gate)
        {
            if (_state.NextOffsets.TryGetValue(field, out var next) && result.Offset.Value < next) return; // counted before the crash
            _state.NextOffsets[field] = result.Offset.Value + 1;
            if (!validation.IsValid)
            {
                metrics.InvalidEvent();
                logger.LogDebug("Skipping {Topic}[{Partition}]@{Offset}: {Reason}", result.Topic, result.Partition.Value, result.Offset.Value, validation.Reason);
                return;
            }
            var e = validation.Event!;
            _state.Counts.Add(e.ItemId, e.Timestamp);
            _state.Events++;
            _state.EventsSinceRefit++;
            var ms = e.Timestamp.ToUnixTimeMilliseconds();
            if (!_state.RecentUsers.TryGetValue(e.UserId, out var seen) || seen < ms) _state.RecentUsers[e.UserId] = ms;
        }
        metrics.EventCounted();
    }

    /// <summary>Saves the checkpoint, then commits the saved offsets of <paramref name="partitions"/>. False when Redis refused (nothing committed).</summary>
    private bool CheckpointAndCommit(IConsumer<byte[], byte[]> consumer, IEnumerable<TopicPartition> partitions, RetrainerLease.Held held, CancellationToken stopping)
    {
        CheckpointData data;
        lock (_gate)
        {
            var c = _state.Counts;
            data = new CheckpointData(c.Landmark, c.Latest == DateTimeOffset.MinValue ? c.Landmark : c.Latest, c.HalfLife, c.Scaled.ToDictionary(),
                _state.Events, _state.EventsSinceRefit, _state.NextOffsets.ToDictionary(), _state.RecentUsers.ToDictionary());
        }
        try
        {
            checkpoint.SaveAsync(data, held.Value, stopping).GetAwaiter().GetResult();
        }
        catch (LeaseLostException e)
        {
            lease.ReportLost(held, e.Message);
            return false;
        }
        catch (Exception e) when (e is not OperationCanceledException || !stopping.IsCancellationRequested)
        {
            // Nothing is committed, so Kafka redelivers from the last good checkpoint if we crash now.
            logger.LogError("Popularity checkpoint failed ({Error}); offsets not committed, will retry", e.Message);
            return false;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        lock (_gate)
            foreach (var (user, ms) in data.RecentUsers)
                if (_state.RecentUsers.TryGetValue(user, out var now) && now == ms) _state.RecentUsers.Remove(user);

        var offsets = partitions
            .Select(p => data.NextOffsets.TryGetValue(PopularityState.SourceField(p.Topic, p.Partition.Value), out var next) ? new TopicPartitionOffset(p, next) : null)
            .OfType<TopicPartitionOffset>().ToList();
        if (offsets.Count == 0) return true;
        try
        {
            consumer.Commit(offsets);
        }
        catch (KafkaException e)
        {
            // The checkpoint holds the offsets: a redelivery is recognised and skipped, so a failed commit loses nothing.
            logger.LogWarning("Offset commit failed ({Code}); the checkpoint's offsets will skip the redelivered messages", e.Error.Code);
        }
        metrics.Checkpointed();
        return true;
    }

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);
}
