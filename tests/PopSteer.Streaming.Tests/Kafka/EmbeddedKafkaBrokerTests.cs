using System.Text;
using PopSteer.Streaming.Kafka;
using PopSteer.Streaming.Tests.Infrastructure;

namespace PopSteer.Streaming.Tests.Kafka;

public sealed class EmbeddedKafkaBrokerTests
{
    [Fact]
    public async Task Mock_cluster_has_three_tcp_brokers_that_another_client_can_produce_to_and_consume_from()
    {
        using var broker = new EmbeddedKafkaBroker(brokers: 3);
        Assert.Equal(3, broker.Brokers.Count);
        Assert.All(broker.Brokers, b => Assert.Matches(@"^[\w.\-]+:\d+$", b));

        var topic = KafkaFixture.UniqueTopic("broker");
        await KafkaTestClient.ProduceAsync(broker.BootstrapServers, topic,
            Enumerable.Range(0, 20).Select(i => ((byte[]?)Encoding.UTF8.GetBytes($"k{i % 3}"), (byte[]?)Encoding.UTF8.GetBytes($"v{i}"))));

        var read = KafkaTestClient.ConsumeUntil(broker.BootstrapServers, topic, seen => seen.Count >= 20, TimeSpan.FromSeconds(30));
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"v{i}").Order(), read.Select(r => Encoding.UTF8.GetString(r.Message.Value!)).Order());
        // Per-key order survives partitioning.
        foreach (var group in read.GroupBy(r => Encoding.UTF8.GetString(r.Message.Key!)))
            Assert.Equal(group.Select(r => int.Parse(Encoding.UTF8.GetString(r.Message.Value!)[1..])).Order(), group.Select(r => int.Parse(Encoding.UTF8.GetString(r.Message.Value!)[1..])));
    }
}
