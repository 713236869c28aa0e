using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PopSteer.Streaming.Configuration;
using PopSteer.Streaming.Observability;

namespace PopSteer.Streaming.Kafka;

/// <summary>
/// Builds every Kafka client from <see cref="KafkaOptions"/>. Layers, later wins: bootstrap servers, latency-first
/// defaults (Nagle off, linger.ms 1, fetch.wait.max.ms 5; a consumer's <see cref="ConsumerProfile"/>; docs/speed.md), Kafka:Client,
/// Kafka:Producer or Kafka:Consumer, the guarantees this project relies on (idempotent producer with acks=all;
/// consumers with manual commits), then the caller's per-use settings (group id, client id, ...).
/// librdkafka's log and error callbacks go to <see cref="ILogger"/>.
/// </summary>
public sealed class KafkaClientFactory
{
    private readonly KafkaOptions _options;
    private readonly ILogger _logger;
    private readonly ConsumerLoopHealth? _loops;

    /// <param name="loops">When the service registered health checks: every consumer reports its polls, assignment and lag there.</param>
    public KafkaClientFactory(IOptions<KafkaOptions> options, ILogger<KafkaClientFactory>? logger = null, ConsumerLoopHealth? loops = null)
    {
        _options = options.Value;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _loops = loops;
    }

    public KafkaOptions Options => _options;

    public KafkaTopicOptions Topics => _options.Topics;

    public ProducerConfig ProducerConfig(Action<ProducerConfig>? configure = null)
    {
        var config = new ProducerConfig { BootstrapServers = _options.BootstrapServers };
        ApplyLatencyDefaults(config);
        // Latency, not throughput, by default: a message waits at most 1 ms for others to share its request (librdkafka's
        // own default is 5 ms). docs/speed.md gives the throughput profile (linger.ms 10-20, compression) as config keys.
        config.LingerMs = 1;
        Apply(config, _options.Client);
        Apply(config, _options.Producer);
        // No duplicates and no reordering on retries, and a write is acknowledged only when the in-sync replicas have it.
        config.EnableIdempotence = true;
        config.Acks = Acks.All;
        configure?.Invoke(config);
        return config;
    }

    public ConsumerConfig ConsumerConfig(string groupId, Action<ConsumerConfig>? configure = null, ConsumerProfile profile = ConsumerProfile.Latency)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(groupId);
        var config = new ConsumerConfig { BootstrapServers = _options.BootstrapServers };
        ApplyLatencyDefaults(config);
        if (profile == ConsumerProfile.Throughput)
        {
            // Only has to keep up: a broker holds its fetch until 64 KiB or 200 ms have gathered, instead of answering
            // hundreds of one-event fetches a second. On the embedded broker the demo's latency did not move measurably
            // (five A/B pairs inside the noise; docs/speed.md, 7 Dec evening); a real broker's request load is the aim.
            config.FetchWaitMaxMs = 200;
            config.FetchMinBytes = 64 * 1024;
        }
        else
        {
            // A broker answers a fetch with nothing to return after fetch.wait.max.ms (librdkafka: 500 ms). A real broker
            // answers early when data arrives, but the embedded mock cluster does not, so each hop could wait that long:
            // 5 ms bounds it. fetch.min.bytes stays 1 (answer as soon as anything is there).
            config.FetchWaitMaxMs = 5;
            config.FetchMinBytes = 1;
        }
        Apply(config, _options.Client);
        Apply(config, _options.Consumer);
        config.GroupId = groupId;
        // Offsets are committed by the worker only after its side effects are durable.
        config.EnableAutoCommit = false;
        config.EnableAutoOffsetStore = false;
        config.AutoOffsetReset ??= AutoOffsetReset.Earliest;
        config.AllowAutoCreateTopics ??= true;
        configure?.Invoke(config);
        return config;
    }

    public AdminClientConfig AdminConfig(Action<AdminClientConfig>? configure = null)
    {
        var config = new AdminClientConfig { BootstrapServers = _options.BootstrapServers };
        Apply(config, _options.Client);
        configure?.Invoke(config);
        return config;
    }

    public IProducer<TKey, TValue> CreateProducer<TKey, TValue>(Action<ProducerConfig>? configure = null) =>
        new ProducerBuilder<TKey, TValue>(ProducerConfig(configure))
            .SetLogHandler((_, m) => Log(m))
            .SetErrorHandler((_, e) => LogError("producer", e))
            .Build();

    /// <summary>A producer keyed by user id carrying raw JSON bytes: what every PopSteer topic uses.</summary>
    public IProducer<string, byte[]> CreateProducer(Action<ProducerConfig>? configure = null) =>
        CreateProducer<string, byte[]>(configure);

    public IConsumer<TKey, TValue> CreateConsumer<TKey, TValue>(
        string groupId,
        Action<ConsumerConfig>? configure = null,
        Action<ConsumerBuilder<TKey, TValue>>? build = null,
        ConsumerProfile profile = ConsumerProfile.Latency)
    {
        var config = ConsumerConfig(groupId, configure, profile);
        var builder = (_loops?.Builder<TKey, TValue>(config, groupId) ?? new ConsumerBuilder<TKey, TValue>(config))
            .SetLogHandler((_, m) => Log(m))
            .SetErrorHandler((_, e) => LogError("consumer", e));
        build?.Invoke(builder);
        return builder.Build();
    }

    /// <summary>A consumer of raw key and value bytes, so nothing is lost to decoding before validation.</summary>
    public IConsumer<byte[], byte[]> CreateConsumer(
        string groupId,
        Action<ConsumerConfig>? configure = null,
        Action<ConsumerBuilder<byte[], byte[]>>? build = null,
        ConsumerProfile profile = ConsumerProfile.Latency) =>
        CreateConsumer<byte[], byte[]>(groupId, configure, build, profile);

    public IAdminClient CreateAdmin(Action<AdminClientConfig>? configure = null) =>
        new AdminClientBuilder(AdminConfig(configure))
            .SetLogHandler((_, m) => Log(m))
            .SetErrorHandler((_, e) => LogError("admin", e))
            .Build();

    // Defaults only: Kafka:Client, Kafka:Producer and Kafka:Consumer keys applied afterwards override every one.
    private static void ApplyLatencyDefaults(ClientConfig config)
    {
        // Small requests go out at once instead of waiting for Nagle's algorithm to coalesce them (up to 40 ms with delayed ACKs).
        config.SocketNagleDisable = true;
    }

    private static void Apply(ClientConfig config, Dictionary<string, string> keys)
    {
        foreach (var (key, value) in keys)
            config.Set(key, value);
    }

    private void Log(LogMessage message)
    {
        var level = message.Level switch
        {
            SyslogLevel.Emergency or SyslogLevel.Alert or SyslogLevel.Critical => LogLevel.Critical,
            SyslogLevel.Error => LogLevel.Error,
            SyslogLevel.Warning => LogLevel.Warning,
            SyslogLevel.Notice or SyslogLevel.Info => LogLevel.Information,
            _ => LogLevel.Debug,
        };
        _logger.Log(level, "librdkafka {Name} {Facility}: {Message}", message.Name, message.Facility, message.Message);
    }

    // Most client errors are transient (broker down, rebalancing) and librdkafka recovers by itself;
    // only fatal ones end the client.
    private void LogError(string role, Error error) =>
        _logger.Log(error.IsFatal ? LogLevel.Critical : LogLevel.Warning, "Kafka {Role} error {Code}: {Reason}", role, error.Code, error.Reason);
}
