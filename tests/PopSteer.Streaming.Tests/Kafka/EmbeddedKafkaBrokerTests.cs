using System.Text;
using PopSteer.Embedded;
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

    [Fact]
    public async Task Retention_trims_each_partition_to_the_lowest_offset_its_groups_committed_and_never_past_it()
    {
        await using var broker = new EmbeddedKafkaBroker(brokers: 1);
        var topic = KafkaFixture.UniqueTopic("retention");
        broker.CreateTopics([(topic, 3)]);
        using var producer = new Confluent.Kafka.ProducerBuilder<byte[], byte[]>(new Confluent.Kafka.ProducerConfig { BootstrapServers = broker.BootstrapServers }).Build();
        var partitions = Enumerable.Range(0, 3).Select(p => new Confluent.Kafka.TopicPartition(topic, p)).ToArray();
        foreach (var partition in partitions)
            for (int i = 0; i < 40; i++)
                await producer.ProduceAsync(partition, new Confluent.Kafka.Message<byte[], byte[]> { Key = [1], Value = Encoding.UTF8.GetBytes($"{partition.Partition.Value}-{i}") });

        // Group "fast" is at 30 / 20 / 10, group "slow" at 25 / 35 / nothing: partition 2 must stay whole.
        void Commit(string group, params (int Partition, long Offset)[] offsets)
        {
            using var consumer = new Confluent.Kafka.ConsumerBuilder<byte[], byte[]>(new Confluent.Kafka.ConsumerConfig { BootstrapServers = broker.BootstrapServers, GroupId = group }).Build();
            consumer.Commit(offsets.Select(o => new Confluent.Kafka.TopicPartitionOffset(topic, o.Partition, o.Offset)));
        }
        string fast = $"fast-{Guid.NewGuid():N}", slow = $"slow-{Guid.NewGuid():N}";
        Commit(fast, (0, 30), (1, 20), (2, 10));
        Commit(slow, (0, 25), (1, 35));

        await using (var retention = new EmbeddedBrokerRetention(broker, [(topic, [fast, slow])], TimeSpan.FromMilliseconds(100)))
        {
            using var probe = new Confluent.Kafka.ConsumerBuilder<byte[], byte[]>(new Confluent.Kafka.ConsumerConfig { BootstrapServers = broker.BootstrapServers, GroupId = "probe" }).Build();
            long Low(int p) => probe.QueryWatermarkOffsets(partitions[p], TimeSpan.FromSeconds(5)).Low.Value;
            await Eventually.Until(() => Low(0) == 25 && Low(1) == 20, TimeSpan.FromSeconds(20),
                () => $"low watermarks {Low(0)} / {Low(1)} / {Low(2)}, expected 25 / 20 / 0 ({retention.LastError})");
            await Task.Delay(300); // a few more passes: nothing further may go
            Assert.Equal([25L, 20L, 0L], Enumerable.Range(0, 3).Select(Low));
            Assert.Equal(45, retention.RecordsDeleted);
            Assert.Null(retention.LastError);
        }

        // What the slowest group committed is still there to resume from.
        using var resumed = new Confluent.Kafka.ConsumerBuilder<byte[], byte[]>(new Confluent.Kafka.ConsumerConfig { BootstrapServers = broker.BootstrapServers, GroupId = slow }).Build();
        resumed.Assign(new Confluent.Kafka.TopicPartitionOffset(topic, 0, 25));
        var first = resumed.Consume(TimeSpan.FromSeconds(10));
        Assert.Equal("0-25", Encoding.UTF8.GetString(first!.Message.Value));
    }
}
