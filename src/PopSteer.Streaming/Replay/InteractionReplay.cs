using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using PopSteer.Core.Data;
using PopSteer.Streaming.Contracts;
using PopSteer.Streaming.Kafka;

namespace PopSteer.Streaming.Replay;

/// <summary>
/// Replays interactions as a live stream: <see cref="InteractionEvent"/>s keyed by user, in time order, at a target
/// rate. Used by `popsteer replay`, the demo and the streaming bench.
/// </summary>
public sealed class InteractionReplay(KafkaClientFactory kafka)
{
    // Below this, a timestamp is taken as seconds since the epoch (1e11 s is the year 5138; 1e11 ms is 1973).
    private const long SecondsThreshold = 100_000_000_000;

    /// <summary>
    /// Rows to events in time order (stable: ties keep file order, so a user's sequence matches the file). Timestamps in
    /// seconds (MovieLens) become milliseconds. Event ids are <paramref name="eventIdPrefix"/> + the row's position.
    /// </summary>
    /// <param name="keepOrder">Replay the rows in the order given (the caller already ordered them, keeping each user's
    /// own order) instead of sorting by time.</param>
    public static IReadOnlyList<InteractionEvent> ToEvents(IReadOnlyList<Interaction> rows, string eventIdPrefix = "replay-", bool keepOrder = false)
    {
        var seconds = rows.Count > 0 && rows.All(r => r.Timestamp < SecondsThreshold);
        var indexed = rows.Select((row, index) => (row, index));
        if (!keepOrder) indexed = indexed.OrderBy(x => x.row.Timestamp).ThenBy(x => x.index);
        return indexed
            .Select(x => new InteractionEvent
            {
                EventId = $"{eventIdPrefix}{x.index}",
                UserId = x.row.UserId,
                ItemId = x.row.ItemId,
                Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(seconds ? x.row.Timestamp * 1000 : x.row.Timestamp),
                Weight = x.row.Weight == 1f ? null : x.row.Weight,
            })
            .ToArray();
    }

    /// <summary>
    /// Produces the events in order (per-user order is kept by the key) at <paramref name="eventsPerSecond"/>
    /// (0 = as fast as possible) and waits for every delivery report. <paramref name="progress"/> is called about once a second.
    /// </summary>
    public async Task<ReplayResult> RunAsync(
        IEnumerable<InteractionEvent> events,
        string topic,
        double eventsPerSecond = 0,
        Action<ReplayResult>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(eventsPerSecond);
        using var producer = kafka.CreateProducer<byte[], byte[]>(c => c.ClientId ??= "popsteer-replay");
        long sent = 0, failed = 0;
        string? firstError = null;
        var clock = Stopwatch.StartNew();
        var lastReport = TimeSpan.Zero;

        await Task.Run(() =>
        {
            foreach (var e in events)
            {
                if (cancellationToken.IsCancellationRequested) break;
                if (eventsPerSecond > 0)
                {
                    // Pace against the schedule, not the previous message, so the average rate is exact.
                    var due = TimeSpan.FromSeconds(sent / eventsPerSecond);
                    var wait = due - clock.Elapsed;
                    if (wait > TimeSpan.Zero) cancellationToken.WaitHandle.WaitOne(wait);
                }
                var message = new Message<byte[], byte[]>
                {
                    Key = Encoding.UTF8.GetBytes(e.UserId),
                    Value = JsonSerializer.SerializeToUtf8Bytes(e, StreamingJsonContext.Default.InteractionEvent),
                };
                while (true)
                {
                    try
                    {
                        producer.Produce(topic, message, report =>
                        {
                            if (!report.Error.IsError) return;
                            Interlocked.Increment(ref failed);
                            Interlocked.CompareExchange(ref firstError, report.Error.Reason, null);
                        });
                        break;
                    }
                    catch (ProduceException<byte[], byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
                    {
                        producer.Poll(TimeSpan.FromMilliseconds(20)); // back-pressure: let deliveries drain
                    }
                }
                sent++;
                if (progress is not null && clock.Elapsed - lastReport >= TimeSpan.FromSeconds(1))
                {
                    lastReport = clock.Elapsed;
                    progress(new ReplayResult(sent, Interlocked.Read(ref failed), clock.Elapsed, null));
                }
            }
            while (producer.Flush(TimeSpan.FromSeconds(1)) > 0 && !cancellationToken.IsCancellationRequested)
            {
            }
        }, CancellationToken.None).ConfigureAwait(false);

        return new ReplayResult(sent, Interlocked.Read(ref failed), clock.Elapsed, firstError);
    }
}
