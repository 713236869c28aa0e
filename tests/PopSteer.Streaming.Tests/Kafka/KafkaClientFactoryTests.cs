using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using PopSteer.Streaming.Kafka;
using PopSteer.Streaming.Tests.Infrastructure;

namespace PopSteer.Streaming.Tests.Kafka;

public sealed class KafkaClientFactoryTests
{
    private static KafkaClientFactory Factory(Action<TestSettings> configure)
    {
        var settings = new TestSettings("broker-a:9092,broker-b:9092", "127.0.0.1:1");
        configure(settings);
        return StreamingServices.Build(settings).GetRequiredService<KafkaClientFactory>();
    }

    [Fact]
    public void Raw_client_keys_reach_every_client_so_sasl_and_tls_need_no_code()
    {
        var factory = Factory(s =>
        {
            s["Kafka:Client:security.protocol"] = "SASL_SSL";
            s["Kafka:Client:sasl.mechanism"] = "SCRAM-SHA-512";
            s["Kafka:Client:sasl.username"] = "ingest";
            s["Kafka:Producer:linger.ms"] = "20";
            s["Kafka:Consumer:fetch.min.bytes"] = "1024";
        });

        var producer = factory.ProducerConfig().ToDictionary(kv => kv.Key, kv => kv.Value);
        var consumer = factory.ConsumerConfig("g").ToDictionary(kv => kv.Key, kv => kv.Value);
        var admin = factory.AdminConfig().ToDictionary(kv => kv.Key, kv => kv.Value);
        foreach (var config in new[] { producer, consumer, admin })
        {
            Assert.Equal("broker-a:9092,broker-b:9092", config["bootstrap.servers"]);
            Assert.Equal("SASL_SSL", config["security.protocol"], ignoreCase: true);
            Assert.Equal("SCRAM-SHA-512", config["sasl.mechanism"]);
            Assert.Equal("ingest", config["sasl.username"]);
        }
        Assert.Equal("20", producer["linger.ms"]);
        Assert.False(consumer.ContainsKey("linger.ms"));
        Assert.Equal("1024", consumer["fetch.min.bytes"]);
        Assert.False(producer.ContainsKey("fetch.min.bytes"));
    }

    [Fact]
    public void A_throughput_consumer_fetches_less_often_and_configuration_still_overrides_it()
    {
        var plain = Factory(_ => { });
        var latency = plain.ConsumerConfig("g");
        var throughput = plain.ConsumerConfig("g", profile: ConsumerProfile.Throughput);
        Assert.Equal((5, 1), (latency.FetchWaitMaxMs, latency.FetchMinBytes));
        Assert.Equal((200, 65536), (throughput.FetchWaitMaxMs, throughput.FetchMinBytes));

        // The profile is a default: an operator's key wins, for every profile.
        var tuned = Factory(s => s["Kafka:Consumer:fetch.wait.max.ms"] = "50");
        Assert.Equal(50, tuned.ConsumerConfig("g", profile: ConsumerProfile.Throughput).FetchWaitMaxMs);
        Assert.Equal(65536, tuned.ConsumerConfig("g", profile: ConsumerProfile.Throughput).FetchMinBytes);
        Assert.Equal(50, tuned.ConsumerConfig("g").FetchWaitMaxMs);
    }

    [Fact]
    public void Delivery_guarantees_hold_even_when_configuration_says_otherwise()
    {
        var factory = Factory(s =>
        {
            s["Kafka:Producer:acks"] = "1";
            s["Kafka:Producer:enable.idempotence"] = "false";
            s["Kafka:Consumer:enable.auto.commit"] = "true";
        });

        var producer = factory.ProducerConfig();
        Assert.True(producer.EnableIdempotence);
        Assert.Equal(Acks.All, producer.Acks);
        var consumer = factory.ConsumerConfig("ingest-group", c => c.ClientId = "me");
        Assert.False(consumer.EnableAutoCommit);
        Assert.False(consumer.EnableAutoOffsetStore);
        Assert.Equal("ingest-group", consumer.GroupId);
        Assert.Equal("me", consumer.ClientId);
        Assert.Equal(AutoOffsetReset.Earliest, consumer.AutoOffsetReset);
    }

    [Fact]
    public void Topic_names_come_from_configuration()
    {
        var factory = Factory(s => s["Kafka:Topics:DeadLetter"] = "ops.dlq");
        Assert.Equal("ops.dlq", factory.Topics.DeadLetter);
        Assert.Equal(Topics.Models, new KafkaClientFactory(Microsoft.Extensions.Options.Options.Create(new PopSteer.Streaming.Configuration.KafkaOptions { BootstrapServers = "x:1" })).Topics.Models);
    }
}
