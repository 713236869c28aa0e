namespace PopSteer.Streaming.Kafka;

/// <summary>
/// What a consumer's fetches are tuned for before the configured keys apply (<see cref="KafkaClientFactory"/>).
/// </summary>
public enum ConsumerProfile
{
    /// <summary>
    /// Ingest, the Scorer, a feed: fetch.wait.max.ms 5 and fetch.min.bytes 1, so an event is handed over as soon as it
    /// is there, even by the embedded mock broker, which answers an empty fetch only after the full wait.
    /// </summary>
    Latency,

    /// <summary>
    /// A consumer that only has to keep up, such as the Retrainer's popularity tracker: fetch.wait.max.ms 200 and
    /// fetch.min.bytes 64 KiB, so that under a steady stream it asks the broker a few times a second instead of with
    /// every event, and leaves the broker's time to the consumers a user waits on.
    /// </summary>
    Throughput,
}
