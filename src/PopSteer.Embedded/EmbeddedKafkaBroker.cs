using System.Runtime.InteropServices;
using Confluent.Kafka;
using PopSteer.Streaming.Configuration;

namespace PopSteer.Embedded;

/// <summary>
/// librdkafka's built-in mock cluster (test.mock.num.brokers): real Kafka-protocol brokers on 127.0.0.1 that other
/// clients and processes reach over TCP. Produce, consume, consumer groups and committed offsets work; topics are
/// created on first use. Lives as long as this object: the cluster belongs to the client handle that started it.
/// Not durable and not a production broker: for the demo, tests and benchmarks. Its retention is fixed: a partition
/// keeps at most 5 MB (or 100,000 message sets), the oldest sets beyond that are dropped whether consumed or not, so a
/// backlog larger than that per partition is lost in part (a consumer then skips to the oldest kept offset).
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

    /// <summary>The client that owns the cluster (for the mock's C API: <see cref="MockCluster.Of"/>).</summary>
    internal Handle OwnerHandle => _owner.Handle;

    /// <summary>
    /// Partition counts of deploy/k8s/base/topics-job.yaml, so the demo and the local runs partition as production
    /// does. It matters for speed as well as realism: the mock answers a fetch with at most one message set per
    /// partition and finds it by walking that partition's whole list of sets, so a paced stream (about one event per
    /// set) costs the broker work that grows with each partition's log; the mock's default of 4 partitions made its one
    /// thread the limit after ~35 s at ~600 events/s (docs/speed.md).
    /// </summary>
    public static IReadOnlyList<(string Topic, int Partitions)> ProductionTopics(KafkaTopicOptions topics) =>
    [
        (topics.Interactions, 12), (topics.UsersChanged, 12), (topics.Recommendations, 12), (topics.DeadLetter, 3), (topics.Models, 1),
    ];

    /// <summary>
    /// Creates topics with a set number of partitions (replication as the mock's default: min(3, brokers)). The mock
    /// does not implement the CreateTopics request, so this calls its C API (rd_kafka_mock_topic_create) on the
    /// cluster this object owns. A topic that already exists is left as it is.
    /// </summary>
    public void CreateTopics(IEnumerable<(string Topic, int Partitions)> topics)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var cluster = MockCluster.Of(_owner.Handle);
        foreach (var (topic, partitions) in topics)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
            int error = MockCluster.rd_kafka_mock_topic_create(cluster, topic, partitions, Math.Min(3, Brokers.Count));
            // TOPIC_ALREADY_EXISTS (36): created earlier, by us or by auto-creation; its partitions stay as they are.
            if (error is not 0 and not 36)
                throw new InvalidOperationException($"The mock cluster refused to create topic {topic} with {partitions} partitions: {new Error((ErrorCode)error).Reason}");
        }
    }

    /// <summary>
    /// <see cref="CreateTopics"/>, or, where the mock's C API cannot be reached (another librdkafka build, another
    /// Confluent.Kafka), a warning and auto-created topics: the demo still runs, with the mock's 4 partitions.
    /// </summary>
    public bool TryCreateTopics(IEnumerable<(string Topic, int Partitions)> topics, Action<string> warn)
    {
        try
        {
            CreateTopics(topics);
            return true;
        }
        catch (Exception e) when (e is InvalidOperationException or EntryPointNotFoundException or DllNotFoundException)
        {
            warn($"could not create the topics with their partition counts ({e.Message}); they are auto-created with the mock's default of 4 partitions");
            return false;
        }
    }

    /// <summary>
    /// Deletes a partition's records before <paramref name="offset"/>, as a broker's retention (or the DeleteRecords
    /// request, which the mock does not implement) does: through the mock's C API
    /// (rd_kafka_mock_partition_delete_records). See <see cref="EmbeddedBrokerRetention"/> for why the embedded broker needs it.
    /// </summary>
    public void DeleteRecordsBefore(string topic, int partition, long offset)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        int error = MockCluster.rd_kafka_mock_partition_delete_records(MockCluster.Of(_owner.Handle), topic, partition, offset);
        if (error != 0)
            throw new InvalidOperationException($"The mock cluster refused to delete {topic}[{partition}] before offset {offset}: {new Error((ErrorCode)error).Reason}");
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

/// <summary>
/// librdkafka's mock-cluster C API, which Confluent.Kafka does not wrap. Bound to the very librdkafka file the client
/// loaded (Confluent.Kafka picks one of several builds at run time), found in /proc/self/maps: a second copy would
/// have its own, different cluster.
/// </summary>
internal static class MockCluster
{
    private const string Library = "librdkafka";

    static MockCluster() => NativeLibrary.SetDllImportResolver(typeof(MockCluster).Assembly, (name, _, _) =>
        name == Library ? NativeLibrary.Load(LoadedLibrdkafka()) : IntPtr.Zero);

    /// <summary>The rd_kafka_mock_cluster_t of a client that was created with test.mock.num.brokers.</summary>
    public static IntPtr Of(Handle handle)
    {
        // Handle.LibrdkafkaHandle is internal: the rd_kafka_t pointer is reached by reflection, once per call.
        var property = typeof(Handle).GetProperty("LibrdkafkaHandle", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)
            ?? throw new InvalidOperationException("This Confluent.Kafka version has no Handle.LibrdkafkaHandle; the mock cluster cannot be reached.");
        var rk = ((SafeHandle)property.GetValue(handle)!).DangerousGetHandle();
        var cluster = rd_kafka_handle_mock_cluster(rk);
        return cluster != IntPtr.Zero ? cluster : throw new InvalidOperationException("The client has no mock cluster (test.mock.num.brokers not set).");
    }

    private static string LoadedLibrdkafka() =>
        File.ReadLines("/proc/self/maps")
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length >= 6 && Path.GetFileName(fields[5]).EndsWith("librdkafka.so", StringComparison.Ordinal))
            .Select(fields => fields[5])
            .FirstOrDefault()
        ?? throw new InvalidOperationException("librdkafka is not loaded in this process (create a Kafka client first).");

    [DllImport(Library)]
    internal static extern IntPtr rd_kafka_handle_mock_cluster(IntPtr rk);

    /// <summary>The next <paramref name="count"/> requests of <paramref name="apiKey"/> to any broker fail with these errors (tests' fault injection).</summary>
    [DllImport(Library)]
    internal static extern int rd_kafka_mock_push_request_errors_array(IntPtr cluster, short apiKey, nuint count, int[] errors);

    [DllImport(Library)]
    internal static extern int rd_kafka_mock_partition_delete_records(IntPtr cluster, [MarshalAs(UnmanagedType.LPUTF8Str)] string topic, int partition, long beforeOffset);

    [DllImport(Library)]
    internal static extern int rd_kafka_mock_topic_create(IntPtr cluster, [MarshalAs(UnmanagedType.LPUTF8Str)] string topic, int partitions, int replicationFactor);
}
