using Confluent.Kafka;

namespace PopSteer.Streaming.Kafka;

/// <summary>
/// librdkafka's built-in mock cluster (test.mock.num.brokers): real Kafka-protocol brokers on 127.0.0.1 that other
/// clients and processes reach over TCP. Produce, consume, consumer groups and committed offsets work; topics are
/// created on first use. Lives as long as this object: the cluster belongs to the client handle that started it.
/// Not durable and not a production broker: for the demo, tests and benchmarks.
/// </summary>
public sealed class EmbeddedKafkaBroker : IDisposable, IAsyncDisposable
{
    private readonly IProducer<Null, Null> _owner;
    private int _disposed;

    public EmbeddedKafkaBroker(int brokers = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(brokers, 1);
        var config = new ProducerConfig();
        config.Set("test.mock.num.brokers", brokers.ToString(System.Globalization.CultureInfo.InvariantCulture));
        // librdkafka announces the mock cluster at notice level; only warnings and worse are worth a console line.
        _owner = new ProducerBuilder<Null, Null>(config)
            .SetLogHandler((_, m) => { if (m.Level <= SyslogLevel.Warning) Console.Error.WriteLine($"kafka mock: {m.Message}"); })
            .Build();

        using var admin = new DependentAdminClientBuilder(_owner.Handle).Build();
        var metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));
        Brokers = metadata.Brokers.Select(b => $"{b.Host}:{b.Port}").Order(StringComparer.Ordinal).ToArray();
        if (Brokers.Count != brokers)
            throw new InvalidOperationException($"The mock cluster reported {Brokers.Count} brokers, expected {brokers}.");
        BootstrapServers = string.Join(',', Brokers);
    }

    /// <summary>host:port of each broker.</summary>
    public IReadOnlyList<string> Brokers { get; }

    /// <summary>The comma-separated list to put in Kafka:BootstrapServers.</summary>
    public string BootstrapServers { get; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
            _owner.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
