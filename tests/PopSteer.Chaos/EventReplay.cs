using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using PopSteer.Core.Data;
using PopSteer.Streaming.Contracts;

namespace PopSteer.Chaos;

/// <summary>
/// The known event set: each chosen user's first events of the generated data, in the user's own order, sent to
/// popsteer.interactions interleaved across users at an even rate over the replay. Event times are rewritten to the
/// wall clock at send time (strictly increasing), so that no validator bound on event time can refuse a real event.
/// </summary>
public sealed class EventReplay
{
    private readonly List<ReplayedEvent> _order;

    private EventReplay(List<ReplayedEvent> order, IReadOnlyDictionary<string, IReadOnlyList<ReplayedEvent>> byUser)
    {
        _order = order;
        ByUser = byUser;
    }

    public IReadOnlyList<ReplayedEvent> Events => _order;

    /// <summary>Each user's events in the order they were sent.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<ReplayedEvent>> ByUser { get; }

    public static EventReplay FromData(string dataFile, int users, int eventsPerUser, int seed)
    {
        var rows = InteractionReader.Read(dataFile);
        var histories = rows.GroupBy(r => r.UserId, StringComparer.Ordinal)
            .Where(g => g.Count() >= 2)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => g.OrderBy(r => r.Timestamp).Take(eventsPerUser).ToArray())
            .ToList();
        var rng = new Random(seed);
        var chosen = histories.OrderBy(_ => rng.Next()).Take(users).ToArray();
        if (chosen.Length < users)
            throw new InvalidOperationException($"{dataFile} has only {chosen.Length} users with two or more events; asked for {users}.");

        var byUser = chosen.ToDictionary(
            h => h[0].UserId,
            h => (IReadOnlyList<ReplayedEvent>)h.Select((r, i) => new ReplayedEvent(r.UserId, i, r.ItemId)).ToArray(),
            StringComparer.Ordinal);
        // Interleave by progress: every user's first event, then every user's second, ...
        var order = new List<ReplayedEvent>();
        for (int k = 0; k < eventsPerUser; k++)
            foreach (var h in byUser.Values)
                if (k < h.Count) order.Add(h[k]);
        return new EventReplay(order, byUser);
    }

    /// <summary>Sends every event, evenly spread over <paramref name="duration"/>; returns when all delivery reports are in.</summary>
    public async Task RunAsync(IProducer<byte[], byte[]> producer, string topic, TimeSpan duration, CancellationToken cancellationToken)
    {
        var started = DateTimeOffset.UtcNow;
        var pending = new List<Task>(_order.Count);
        long lastMs = 0;
        for (int i = 0; i < _order.Count; i++)
        {
            var due = started + duration * ((double)i / _order.Count);
            var wait = due - DateTimeOffset.UtcNow;
            if (wait > TimeSpan.Zero) await Task.Delay(wait, cancellationToken);
            var e = _order[i];
            e.SentAt = DateTimeOffset.UtcNow;
            e.TimestampMs = lastMs = Math.Max(e.SentAt.ToUnixTimeMilliseconds(), lastMs + 1);
            var payload = JsonSerializer.SerializeToUtf8Bytes(new InteractionEvent
            {
                EventId = e.EventId,
                UserId = e.UserId,
                ItemId = e.ItemId,
                Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(e.TimestampMs),
            }, StreamingJsonContext.Default.InteractionEvent);
            pending.Add(Deliver(producer, topic, e, payload));
        }
        await Task.WhenAll(pending);
    }

    private static async Task Deliver(IProducer<byte[], byte[]> producer, string topic, ReplayedEvent e, byte[] payload)
    {
        try
        {
            await producer.ProduceAsync(topic, new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes(e.UserId), Value = payload });
            e.Delivered = true;
        }
        catch (ProduceException<byte[], byte[]> x)
        {
            e.DeliveryError = x.Error.Reason;
        }
    }
}
