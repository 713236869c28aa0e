using System.ComponentModel.DataAnnotations;
using PopSteer.Streaming.Contracts;

namespace PopSteer.Ingest;

/// <summary>Section "Ingest".</summary>
public sealed class IngestOptions
{
    public const string SectionName = "Ingest";

    /// <summary>Consumer group of popsteer.interactions; instances with the same id share its partitions.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Ingest:GroupId is required.")]
    public string GroupId { get; set; } = "popsteer-ingest";

    /// <summary>Most messages applied (and committed) together.</summary>
    [Range(1, 100_000, ErrorMessage = "Ingest:MaxBatchSize must be between 1 and 100000.")]
    public int MaxBatchSize { get; set; } = 1000;

    /// <summary>Longest a batch may wait to fill after its first message (a bound: see <see cref="ArrivalGap"/>).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00", ErrorMessage = "Ingest:MaxBatchWait must be between 00:00:00 and 00:01:00.")]
    public TimeSpan MaxBatchWait { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Once the input is drained a batch of at least this many goes at once; a smaller one waits for more only while messages keep arriving.</summary>
    [Range(1, 100_000, ErrorMessage = "Ingest:PreferredBatchSize must be between 1 and 100000.")]
    public int PreferredBatchSize { get; set; } = 256;

    /// <summary>How long a drained, below-preferred batch waits for one more message before it goes (0: never waits).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:01", ErrorMessage = "Ingest:ArrivalGap must be between 00:00:00 and 00:00:01.")]
    public TimeSpan ArrivalGap { get; set; } = TimeSpan.FromMilliseconds(1);

    /// <summary>
    /// Collect and append the next batch while this one's signals await their delivery reports, and commit this one
    /// when they are in (before the next is committed). Off (the default): each batch waits for its reports and
    /// commits before the next is collected. Either way nothing is committed before it is durable in Redis and
    /// acknowledged by Kafka. Off by default because on the 2-core demo machine it measured no better (docs/speed.md,
    /// 7 Dec); it is meant for brokers whose acknowledgement is network time, not shared CPU.
    /// </summary>
    public bool OverlapDelivery { get; set; }

    /// <summary>Larger messages are dead-lettered unread.</summary>
    [Range(64, 1024 * 1024, ErrorMessage = "Ingest:MaxPayloadBytes must be between 64 and 1048576.")]
    public int MaxPayloadBytes { get; set; } = InteractionEventValidator.DefaultMaxPayloadBytes;

    /// <summary>
    /// Original bytes kept in a dead letter at most; the rest is cut (its length and SHA-256 stay in the letter), so a
    /// dead letter always fits the producer's message.max.bytes (1,000,000 by default; base64 adds a third).
    /// </summary>
    [Range(0, 512 * 1024, ErrorMessage = "Ingest:DeadLetterMaxPayloadBytes must be between 0 and 524288.")]
    public int DeadLetterMaxPayloadBytes { get; set; } = InteractionEventValidator.DefaultMaxPayloadBytes;

    /// <summary>Events dated further ahead of this host's clock are dead-lettered (they would move the decay landmark).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00", ErrorMessage = "Ingest:MaxClockSkew must be between 00:00:00 and 7 days.")]
    public TimeSpan MaxClockSkew { get; set; } = EventTimeWindow.DefaultMaxFutureSkew;

    /// <summary>Events older than this are dead-lettered; null accepts any time after 1990 (historical replays).</summary>
    [Range(typeof(TimeSpan), "00:01:00", "36500.00:00:00", ErrorMessage = "Ingest:MaxEventAge must be between 1 minute and 36500 days, or null.")]
    public TimeSpan? MaxEventAge { get; set; }

    /// <summary>Pause before the same batch is tried again once the Polly pipeline has given up (Redis or Kafka down).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00", ErrorMessage = "Ingest:RetryPause must be between 10 ms and 10 minutes.")]
    public TimeSpan RetryPause { get; set; } = TimeSpan.FromSeconds(1);

    internal EventTimeWindow EventTimeWindow => new() { MaxFutureSkew = MaxClockSkew, MaxAge = MaxEventAge };
}
