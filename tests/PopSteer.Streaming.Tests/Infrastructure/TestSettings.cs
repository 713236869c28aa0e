using Microsoft.Extensions.Configuration;

namespace PopSteer.Streaming.Tests.Infrastructure;

/// <summary>
/// Configuration for a service under test: fresh topic names, key prefix and group id per test so tests sharing a
/// broker or a Redis never interfere. <see cref="Values"/> also renders as environment variables for child processes.
/// </summary>
public sealed class TestSettings
{
    public TestSettings(string bootstrapServers, string redisConnection)
    {
        var id = Guid.NewGuid().ToString("N")[..12];
        Values = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["Kafka:BootstrapServers"] = bootstrapServers,
            ["Kafka:Topics:Interactions"] = $"test.interactions.{id}",
            ["Kafka:Topics:UsersChanged"] = $"test.users.changed.{id}",
            ["Kafka:Topics:Recommendations"] = $"test.recommendations.{id}",
            ["Kafka:Topics:DeadLetter"] = $"test.deadletter.{id}",
            ["Kafka:Topics:Models"] = $"test.models.{id}",
            ["Redis:Configuration"] = redisConnection,
            ["Redis:KeyPrefix"] = $"t{id}",
            ["Ingest:GroupId"] = $"ingest-{id}",
            // The mock cluster's coordinator hands a departed member's partitions on only after its session times out
            // (even after a clean LeaveGroup), so a restarted worker would wait the default 45 s.
            ["Kafka:Consumer:session.timeout.ms"] = "6000",
            ["Kafka:Consumer:heartbeat.interval.ms"] = "500",
            // Short back-offs keep outage tests in seconds.
            ["Resilience:Redis:BaseDelay"] = "00:00:00.050",
            ["Resilience:Redis:MaxDelay"] = "00:00:00.500",
            ["Resilience:Redis:AttemptTimeout"] = "00:00:02",
            ["Resilience:Redis:BreakDuration"] = "00:00:00.500",
        };
    }

    public Dictionary<string, string?> Values { get; }

    public string this[string key]
    {
        get => Values[key]!;
        set => Values[key] = value;
    }

    public string InteractionsTopic => this["Kafka:Topics:Interactions"];
    public string UsersChangedTopic => this["Kafka:Topics:UsersChanged"];
    public string DeadLetterTopic => this["Kafka:Topics:DeadLetter"];
    public string BootstrapServers => this["Kafka:BootstrapServers"];

    public IConfiguration Build() => new ConfigurationBuilder().AddInMemoryCollection(Values).Build();

    /// <summary>The same settings as environment variables (Section__Key) for a child process.</summary>
    public IEnumerable<KeyValuePair<string, string>> AsEnvironment() =>
        Values.Where(kv => kv.Value is not null).Select(kv => KeyValuePair.Create(kv.Key.Replace(":", "__", StringComparison.Ordinal), kv.Value!));
}
