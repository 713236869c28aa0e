using PopSteer.Core.Data;
using PopSteer.Core.Storage;
using PopSteer.Streaming.Contracts;
using PopSteer.Streaming.Tests.Infrastructure;

namespace PopSteer.Streaming.Tests.Retraining;

internal static class RetrainerTestSettings
{
    /// <summary>Test settings plus a Retrainer that checkpoints and checks often and works in <paramref name="workDirectory"/>.</summary>
    public static TestSettings Create(string bootstrapServers, string redisConnection, string workDirectory)
    {
        var settings = new TestSettings(bootstrapServers, redisConnection);
        settings["Retrainer:GroupId"] = $"retrainer-{Guid.NewGuid():N}";
        settings["Retrainer:CheckpointInterval"] = "00:00:00.100";
        settings["Retrainer:CheckInterval"] = "00:00:00.200";
        settings["Retrainer:WorkDirectory"] = workDirectory;
        settings["Retrainer:AnalysisPrefixes"] = "500";
        settings["Retrainer:MinValidationUsers"] = "20";
        return settings;
    }

    /// <summary>
    /// A stream in which the model's tail has become popular: <paramref name="users"/> users with
    /// <paramref name="perUser"/> events each, 85% of them on the model's tail items, the rest on any item.
    /// </summary>
    public static List<InteractionEvent> DriftTowardsTail(string modelDirectory, int users, int perUser, int seed)
    {
        var manifest = ModelDirectory.Verify(modelDirectory);
        var items = ModelDirectory.LoadItems(manifest);
        var groups = ModelDirectory.LoadGroups(modelDirectory, manifest);
        var tail = groups.Items(PopularityGroup.Tail).Select(items.ToExternal).ToArray();
        var all = items.ExternalIds;
        var random = new Random(seed);
        var start = new DateTimeOffset(2025, 6, 1, 0, 0, 0, TimeSpan.Zero);
        var events = new List<InteractionEvent>(users * perUser);
        for (int i = 0; i < users * perUser; i++)
        {
            events.Add(new InteractionEvent
            {
                EventId = $"d{i}",
                UserId = $"user-{i % users}",
                ItemId = random.NextDouble() < 0.85 ? tail[random.Next(tail.Length)] : all[random.Next(all.Count)],
                Timestamp = start.AddSeconds(i),
            });
        }
        return events;
    }
}
