using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Options;
using PopSteer.Cli.Demo;
using PopSteer.Embedded;
using PopSteer.Streaming.Configuration;
using PopSteer.Streaming.Kafka;

namespace PopSteer.Cli.Tests;

/// <summary>The demo's view reads the recommendations; the embedded broker trims them behind what it committed.</summary>
public sealed class DemoViewConsumerTests
{
    [Fact]
    public async Task The_view_commits_what_it_read_so_the_broker_trims_the_recommendations_behind_it()
    {
        await using var broker = new EmbeddedKafkaBroker(brokers: 1);
        string topic = $"view-{Guid.NewGuid():N}", group = $"view-{Guid.NewGuid():N}";
        broker.CreateTopics([(topic, 3)]);
        var kafka = new KafkaClientFactory(Options.Create(new KafkaOptions { BootstrapServers = broker.BootstrapServers }));
        using (var producer = kafka.CreateProducer())
            for (int i = 0; i < 30; i++)
                await producer.ProduceAsync(topic, new Message<string, byte[]> { Key = $"u{i % 7}", Value = Encoding.UTF8.GetBytes($"{i}") });

        await using var retention = new EmbeddedBrokerRetention(broker, [(topic, [group])], TimeSpan.FromMilliseconds(100));
        using var consumer = DemoRunner.CreateViewConsumer(kafka, group);
        consumer.Subscribe(topic);
        int read = 0;
        var clock = Stopwatch.StartNew();
        // The view keeps polling, as the demo's does; its commits happen in the background twice a second.
        while ((read < 30 || retention.RecordsDeleted < 30) && clock.Elapsed < TimeSpan.FromSeconds(30))
            if (consumer.Consume(TimeSpan.FromMilliseconds(50)) is { Message: not null }) read++;

        Assert.Equal(30, read);
        Assert.True(retention.RecordsDeleted == 30,
            $"the broker trimmed {retention.RecordsDeleted} of the 30 records the view read ({retention.LastError ?? "no trimming error"})");
        var committed = consumer.Committed(TimeSpan.FromSeconds(10));
        Assert.Equal(30, committed.Where(c => c.Offset != Offset.Unset).Sum(c => c.Offset.Value)); // a partition no key hashed to stays unset
    }
}
