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
