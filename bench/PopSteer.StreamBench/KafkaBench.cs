using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using PopSteer.Streaming.Contracts;

namespace PopSteer.StreamBench;

/// <summary>The mock cluster's raw ceilings with interaction-sized messages: produce only, consume only, both at once.</summary>
internal static class KafkaBench
{
    public static void Run(string bootstrap, int count)
    {
        var messages = Events.Make(count, users: 10_000, items: 3_000, seed: 1)
            .Select(e => (Key: Encoding.UTF8.GetBytes(e.UserId), Value: JsonSerializer.SerializeToUtf8Bytes(e, StreamingJsonContext.Default.InteractionEvent)))
            .ToArray();
        Console.WriteLine($"kafka: {count:N0} messages of ~{messages.Average(m => m.Value.Length):0} bytes, idempotent producer acks=all, 3 mock brokers");

        var topic = $"bench.kafka.{Guid.NewGuid():N}";
        var produce = Produce(bootstrap, topic, messages);
        Console.WriteLine($"  produce only          {count / produce.TotalSeconds,12:N0} msgs/s  ({produce.TotalSeconds:0.00} s)");

        var consume = Consume(bootstrap, topic, count, out var join);
        Console.WriteLine($"  consume only          {count / consume.TotalSeconds,12:N0} msgs/s  ({consume.TotalSeconds:0.00} s after a {join.TotalSeconds:0.0} s group join)");

        // The topic exists and the consumer holds its partitions (it has read the warm-up message) before the clock starts.
        var both = $"bench.kafka.{Guid.NewGuid():N}";
        Produce(bootstrap, both, messages[..1]);
        using var joined = new ManualResetEventSlim();
        var reader = Task.Run(() => ConsumeFromStart(bootstrap, both, count + 1, joined));
        joined.Wait();
        var clock = Stopwatch.StartNew();
        Produce(bootstrap, both, messages);
        reader.Wait();
        Console.WriteLine($"  produce + consume     {count / clock.Elapsed.TotalSeconds,12:N0} msgs/s  ({clock.Elapsed.TotalSeconds:0.00} s until the last message was read)");
    }

    private static TimeSpan Produce(string bootstrap, string topic, (byte[] Key, byte[] Value)[] messages)
    {
        using var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrap,
            EnableIdempotence = true,
            Acks = Acks.All,
            LingerMs = 5,
        }).Build();
        var clock = Stopwatch.StartNew();
        long failed = 0;
        foreach (var (key, value) in messages)
        {
            while (true)
            {
                try
                {
                    producer.Produce(topic, new Message<byte[], byte[]> { Key = key, Value = value }, r => { if (r.Error.IsError) Interlocked.Increment(ref failed); });
                    break;
                }
                catch (ProduceException<byte[], byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(10));
                }
            }
        }
        producer.Flush(TimeSpan.FromMinutes(5));
        if (failed > 0) throw new InvalidOperationException($"{failed} messages failed");
        return clock.Elapsed;
    }

    private static TimeSpan Consume(string bootstrap, string topic, int count, out TimeSpan join)
    {
        using var consumer = Consumer(bootstrap);
        consumer.Subscribe(topic);
        var joinClock = Stopwatch.StartNew();
        var first = consumer.Consume(TimeSpan.FromSeconds(60)) ?? throw new TimeoutException("no message");
        join = joinClock.Elapsed;
        var clock = Stopwatch.StartNew();
        for (var seen = 1; seen < count;)
        {
            var r = consumer.Consume(TimeSpan.FromSeconds(30)) ?? throw new TimeoutException($"consumer stalled after {seen} of {count} messages");
            if (!r.IsPartitionEOF) seen++;
        }
        var elapsed = clock.Elapsed;
        consumer.Close();
        return elapsed;
    }

    private static TimeSpan ConsumeFromStart(string bootstrap, string topic, int count, ManualResetEventSlim joined)
    {
        using var consumer = Consumer(bootstrap);
        consumer.Subscribe(topic);
        var clock = Stopwatch.StartNew();
        for (var seen = 0; seen < count;)
        {
            try
            {
                var r = consumer.Consume(TimeSpan.FromSeconds(60)) ?? throw new TimeoutException($"consumer stalled after {seen} of {count} messages");
                if (!r.IsPartitionEOF) seen++;
                joined.Set();
            }
            catch (ConsumeException e) when (e.Error.Code == ErrorCode.UnknownTopicOrPart)
            {
                // Subscribed before the first produce created the topic.
            }
        }
        consumer.Close();
        return clock.Elapsed;
    }

    private static IConsumer<byte[], byte[]> Consumer(string bootstrap) =>
        new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = $"bench-{Guid.NewGuid():N}",
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
            AllowAutoCreateTopics = true,
        }).Build();
}
