using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using PopSteer.Streaming.Contracts;

namespace PopSteer.Streaming.Tests.Infrastructure;

/// <summary>Produce to and read back from the mock cluster in tests: plain clients, no PopSteer code in between.</summary>
public static class KafkaTestClient
{
    public static IProducer<byte[]?, byte[]?> Producer(string bootstrapServers) =>
        new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig
        {
            BootstrapServers = bootstrapServers,
            EnableIdempotence = true,
            Acks = Acks.All,
            LingerMs = 5,
        }).Build();

    /// <summary>
    /// Creates the topics before any service subscribes, as the deployment's topics Job does. A consumer subscribed to a
    /// topic that does not exist yet learns of it only at a later metadata refresh (librdkafka's
    /// topic.metadata.refresh.interval.ms), however soon a producer creates it. The mock cluster has no controller for
    /// CreateTopics; it creates a topic (default partitions) when a producer asks for its metadata.
    /// </summary>
    public static void CreateTopics(string bootstrapServers, params string[] topics)
    {
        using var producer = Producer(bootstrapServers);
        using var admin = new DependentAdminClientBuilder(producer.Handle).Build();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        foreach (var topic in topics)
        {
            while (admin.GetMetadata(topic, TimeSpan.FromSeconds(5)).Topics.Single(t => t.Topic == topic) is { } m
                   && (m.Error.IsError || m.Partitions.Count == 0))
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"Topic '{topic}' not created: {m.Error.Reason}");
                Thread.Sleep(100);
            }
        }
    }

    /// <summary>Produces raw messages in order and waits until all are acknowledged.</summary>
    public static async Task ProduceAsync(string bootstrapServers, string topic, IEnumerable<(byte[]? Key, byte[]? Value)> messages)
    {
        using var producer = Producer(bootstrapServers);
        await ProduceAsync(producer, topic, messages);
    }

    public static async Task ProduceAsync(IProducer<byte[]?, byte[]?> producer, string topic, IEnumerable<(byte[]? Key, byte[]? Value)> messages)
    {
        var failures = new List<Error>();
        var count = 0;
        foreach (var (key, value) in messages)
        {
            // Produce (not ProduceAsync per message): the idempotent producer keeps per-key order and batches.
            while (true)
            {
                try
                {
                    producer.Produce(topic, new Message<byte[]?, byte[]?> { Key = key, Value = value }, r =>
                    {
                        if (r.Error.IsError) lock (failures) failures.Add(r.Error);
                    });
                    break;
                }
                catch (ProduceException<byte[]?, byte[]?> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(50));
                }
            }
            count++;
        }
        await Task.Run(() => producer.Flush(TimeSpan.FromSeconds(60)));
        if (failures.Count > 0)
            throw new InvalidOperationException($"{failures.Count} of {count} messages failed: {failures[0].Reason}");
    }

    /// <summary>Produces interaction events keyed by user, in the given order.</summary>
    public static Task ProduceEventsAsync(string bootstrapServers, string topic, IEnumerable<InteractionEvent> events) =>
        ProduceAsync(bootstrapServers, topic, events.Select(e => ((byte[]?)Encoding.UTF8.GetBytes(e.UserId), (byte[]?)Serialize(e))));

    public static byte[] Serialize(InteractionEvent e) => JsonSerializer.SerializeToUtf8Bytes(e, StreamingJsonContext.Default.InteractionEvent);

    /// <summary>
    /// Reads the topic from the beginning (a fresh group) until <paramref name="done"/> holds for everything read so far,
    /// or throws on timeout saying how many messages it saw.
    /// </summary>
    public static List<ConsumeResult<byte[]?, byte[]?>> ConsumeUntil(
        string bootstrapServers, string topic, Func<IReadOnlyList<ConsumeResult<byte[]?, byte[]?>>, bool> done, TimeSpan timeout)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = $"test-reader-{Guid.NewGuid():N}",
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
            AllowAutoCreateTopics = true,
        }).Build();
        consumer.Subscribe(topic);
        var seen = new List<ConsumeResult<byte[]?, byte[]?>>();
        var deadline = DateTime.UtcNow + timeout;
        try
        {
            while (!done(seen))
            {
                if (DateTime.UtcNow > deadline)
                    throw new TimeoutException($"Condition on topic '{topic}' not met within {timeout}; read {seen.Count} messages.");
                var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
                if (result is { IsPartitionEOF: false, Message: not null }) seen.Add(result);
            }
        }
        finally
        {
            consumer.Close();
        }
        return seen;
    }

    /// <summary>Reads and deserializes the values of a topic with the source-generated contract type.</summary>
    public static List<T> ConsumeValuesUntil<T>(
        string bootstrapServers, string topic, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type,
        Func<IReadOnlyList<T>, bool> done, TimeSpan timeout)
    {
        var values = new List<T>();
        ConsumeUntil(bootstrapServers, topic, seen =>
        {
            for (var i = values.Count; i < seen.Count; i++) values.Add(JsonSerializer.Deserialize(seen[i].Message.Value, type)!);
            return done(values);
        }, timeout);
        return values;
    }

    /// <summary>
    /// <see cref="ConsumeValuesUntil"/> on a topic that a service under test creates with its first message: until it
    /// exists the consumer reports it unknown, which is waited out within the same timeout.
    /// </summary>
    public static List<T> ConsumeValuesOnceCreated<T>(
        string bootstrapServers, string topic, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type,
        Func<IReadOnlyList<T>, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                return ConsumeValuesUntil(bootstrapServers, topic, type, done, deadline - DateTime.UtcNow);
            }
            catch (ConsumeException e) when (e.Error.Code == ErrorCode.UnknownTopicOrPart && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(200);
            }
        }
    }
}
