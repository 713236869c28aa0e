using Confluent.Kafka;
using PopSteer.Embedded;

namespace PopSteer.Streaming.Tests.Infrastructure;

/// <summary>Faults the librdkafka mock cluster injects on request, through its C API (Confluent.Kafka does not wrap it).</summary>
public static class MockFaults
{
    private const short ProduceApiKey = 0;

    /// <summary>The cluster's next <paramref name="count"/> Produce requests, whichever broker gets them, fail with <paramref name="error"/>.</summary>
    public static void FailNextProduceRequests(EmbeddedKafkaBroker broker, ErrorCode error, int count)
    {
        var errors = Enumerable.Repeat((int)error, count).ToArray();
        int result = MockCluster.rd_kafka_mock_push_request_errors_array(MockCluster.Of(broker.OwnerHandle), ProduceApiKey, (nuint)count, errors);
        if (result != 0) throw new InvalidOperationException($"The mock cluster refused the injected errors: {new Error((ErrorCode)result).Reason}");
    }
}
