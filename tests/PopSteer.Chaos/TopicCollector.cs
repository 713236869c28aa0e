using Confluent.Kafka;
using PopSteer.Streaming.Kafka;

namespace PopSteer.Chaos;

/// <summary>One message read back from an output topic.</summary>
public sealed record CollectedMessage(string Topic, int Partition, long Offset, byte[]? Key, byte[] Value);

/// <summary>
/// Reads popsteer.recommendations and popsteer.deadletter from the beginning for the whole drill, in its own
/// consumer group, on its own thread. The drill checks against what it collected.
/// </summary>
public sealed class TopicCollector : IDisposable
{
    private readonly IConsumer<byte[], byte[]> _consumer;
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private readonly List<CollectedMessage> _messages = [];

    public TopicCollector(KafkaClientFactory kafka, params string[] topics)
    {
        _consumer = kafka.CreateConsumer($"chaos-collector-{Guid.NewGuid():N}", c =>
        {
            c.AutoOffsetReset = AutoOffsetReset.Earliest;
            c.TopicMetadataRefreshIntervalMs = 1000;
        });
        _consumer.Subscribe(topics);
        _thread = new Thread(Run) { IsBackground = true, Name = "chaos-collector" };
        _thread.Start();
    }

    public IReadOnlyList<CollectedMessage> Snapshot(string topic)
    {
        lock (_messages) return _messages.Where(m => m.Topic == topic).ToArray();
    }

    private void Run()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var r = _consumer.Consume(TimeSpan.FromMilliseconds(200));
                if (r?.Message is null || r.IsPartitionEOF) continue;
                lock (_messages) _messages.Add(new CollectedMessage(r.Topic, r.Partition.Value, r.Offset.Value, r.Message.Key, r.Message.Value ?? []));
            }
            catch (ConsumeException e) when (!e.Error.IsFatal)
            {
                // The topic may not exist yet.
                Thread.Sleep(200);
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join();
        _consumer.Close();
        _consumer.Dispose();
        _stop.Dispose();
    }
}
