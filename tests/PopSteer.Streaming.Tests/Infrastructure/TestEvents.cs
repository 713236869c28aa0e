using PopSteer.Streaming.Contracts;

namespace PopSteer.Streaming.Tests.Infrastructure;

/// <summary>Seeded interaction streams and the ground truth they imply.</summary>
public static class TestEvents
{
    public static readonly DateTimeOffset Start = new(2024, 5, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// <paramref name="count"/> events in time order over <paramref name="users"/> users and a skewed item catalogue
    /// (popular items come up far more often, as in real logs). Ids are strings that are not plain numbers.
    /// </summary>
    public static List<InteractionEvent> Generate(int users, int items, int count, int seed, string idPrefix = "")
    {
        var random = new Random(seed);
        var events = new List<InteractionEvent>(count);
        for (var i = 0; i < count; i++)
        {
            var item = (int)(items * Math.Pow(random.NextDouble(), 2.5));
            events.Add(new InteractionEvent
            {
                EventId = $"{idPrefix}e{i}",
                UserId = $"{idPrefix}user-{random.Next(users)}",
                ItemId = $"item:{item}",
                Timestamp = Start.AddSeconds(i),
                Type = i % 7 == 0 ? "click" : null,
                Weight = i % 5 == 0 ? 2.5 : null,
            });
        }
        return events;
    }

    /// <summary>Each user's expected stored sequence: their items in stream order, the newest <paramref name="maxLength"/>.</summary>
    public static Dictionary<string, string[]> GroundTruth(IEnumerable<InteractionEvent> events, int maxLength = int.MaxValue) =>
        events.GroupBy(e => e.UserId)
            .ToDictionary(g => g.Key, g => g.Select(e => e.ItemId).TakeLast(maxLength).ToArray(), StringComparer.Ordinal);
}
