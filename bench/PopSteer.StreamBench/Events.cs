using PopSteer.Streaming.Contracts;

namespace PopSteer.StreamBench;

internal static class Events
{
    /// <summary>A seeded stream with a skewed item catalogue, like the tests' and a real log's.</summary>
    public static InteractionEvent[] Make(int count, int users, int items, int seed)
    {
        var random = new Random(seed);
        var start = new DateTimeOffset(2024, 5, 1, 0, 0, 0, TimeSpan.Zero);
        var events = new InteractionEvent[count];
        for (var i = 0; i < count; i++)
            events[i] = new InteractionEvent
            {
                EventId = $"bench-{seed}-{i}",
                UserId = $"user-{random.Next(users)}",
                ItemId = $"item-{(int)(items * Math.Pow(random.NextDouble(), 2.5))}",
                Timestamp = start.AddMilliseconds(i * 10L),
            };
        return events;
    }
}
