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

    [Fact]
    public void Topics_are_created_with_the_partition_counts_asked_for_where_auto_creation_would_give_four()
    {
        using var broker = new EmbeddedKafkaBroker(brokers: 3);
        string wide = KafkaFixture.UniqueTopic("wide"), single = KafkaFixture.UniqueTopic("single"), auto = KafkaFixture.UniqueTopic("auto");
        broker.CreateTopics([(wide, 12), (single, 1)]);
        broker.CreateTopics([(wide, 5)]); // already there: kept as it is
        using var admin = new Confluent.Kafka.AdminClientBuilder(new Confluent.Kafka.AdminClientConfig { BootstrapServers = broker.BootstrapServers, AllowAutoCreateTopics = true }).Build();
        int Partitions(string topic) => admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions.Count;
        Assert.Equal(12, Partitions(wide));
        Assert.Equal(1, Partitions(single));
        Assert.Equal(4, Partitions(auto));
        Assert.Throws<ArgumentOutOfRangeException>(() => broker.CreateTopics([(KafkaFixture.UniqueTopic("none"), 0)]));
        var production = EmbeddedKafkaBroker.ProductionTopics(new PopSteer.Streaming.Configuration.KafkaTopicOptions());
        Assert.Equal(12, production.Single(t => t.Topic == PopSteer.Streaming.Topics.Interactions).Partitions);
    }

    [Fact]
    public void Where_the_topics_cannot_be_created_the_caller_is_warned_and_goes_on()
    {
        var broker = new EmbeddedKafkaBroker(brokers: 1);
        var topics = new[] { (KafkaFixture.UniqueTopic("gone"), 12) };
        var warnings = new List<string>();
        Assert.True(broker.TryCreateTopics(topics, warnings.Add));
        Assert.Empty(warnings);
        broker.Dispose(); // the mock cluster is gone with its owner: nothing to create the topics in
        Assert.False(broker.TryCreateTopics(topics, warnings.Add));
        Assert.Contains("auto-created", Assert.Single(warnings));
    }
}
