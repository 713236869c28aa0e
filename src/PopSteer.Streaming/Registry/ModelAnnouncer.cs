using Confluent.Kafka;
using PopSteer.Streaming.Contracts;
using PopSteer.Streaming.Kafka;
using PopSteer.Streaming.Resilience;

namespace PopSteer.Streaming.Registry;

/// <summary>
/// Announces a moved <c>current</c> pointer on the models topic (<c>Kafka:Topics:Models</c>). Every announcement uses
/// one fixed key, so they all land on one partition and are seen in the order they were made.
/// </summary>
public sealed class ModelAnnouncer : IDisposable
{
    public const string MessageKey = "current";

    private readonly IProducer<string, byte[]> _producer;
    private readonly StreamingResilience _resilience;
    private readonly string _topic;

    public ModelAnnouncer(KafkaClientFactory kafka, StreamingResilience resilience)
    {
        _producer = kafka.CreateProducer();
        _resilience = resilience;
        _topic = kafka.Topics.Models;
    }

    public async Task AnnounceAsync(ModelAnnouncement announcement, CancellationToken cancellationToken)
    {
        var message = new Message<string, byte[]> { Key = MessageKey, Value = ScorerJsonContext.Serialize(announcement) };
        await _resilience.Kafka.ExecuteAsync(
            async ct => { await _producer.ProduceAsync(_topic, message, ct); },
            cancellationToken);
    }

    public void Dispose() => _producer.Dispose();
}
