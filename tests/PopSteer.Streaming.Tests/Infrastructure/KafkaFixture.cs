using PopSteer.Embedded;

namespace PopSteer.Streaming.Tests.Infrastructure;

/// <summary>The librdkafka mock cluster (3 brokers) for one test class; clients reach it over TCP.</summary>
public sealed class KafkaFixture : IDisposable
{
    private readonly EmbeddedKafkaBroker _broker = new(brokers: 3);

    public string BootstrapServers => _broker.BootstrapServers;

    public EmbeddedKafkaBroker Broker => _broker;

    /// <summary>A topic name no other test uses, so tests sharing a cluster never see each other's messages.</summary>
    public static string UniqueTopic(string role) => $"test.{role}.{Guid.NewGuid():N}";

    public void Dispose() => _broker.Dispose();
}
