using System.ComponentModel.DataAnnotations;

namespace PopSteer.Streaming.Configuration;

/// <summary>
/// Section "Kafka". Every client (producer, consumer, admin) starts from <see cref="BootstrapServers"/> plus the raw
/// librdkafka keys in <see cref="Client"/>, so SASL/TLS is a matter of configuration
/// (Kafka:Client:security.protocol = SASL_SSL, Kafka:Client:sasl.mechanism = PLAIN, ...), never of code.
/// </summary>
public sealed class KafkaOptions
{
    public const string SectionName = "Kafka";

    [Required(AllowEmptyStrings = false, ErrorMessage = "Kafka:BootstrapServers is required (a host:port list, e.g. localhost:9092).")]
    public string BootstrapServers { get; set; } = "";

    /// <summary>Raw librdkafka keys applied to every client (security.protocol, sasl.*, ssl.*, client.id, ...).</summary>
    public Dictionary<string, string> Client { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Raw librdkafka keys applied to producers only (linger.ms, compression.type, ...).</summary>
    public Dictionary<string, string> Producer { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Raw librdkafka keys applied to consumers only (session.timeout.ms, fetch.min.bytes, ...).</summary>
    public Dictionary<string, string> Consumer { get; set; } = new(StringComparer.Ordinal);

    public KafkaTopicOptions Topics { get; set; } = new();
}
