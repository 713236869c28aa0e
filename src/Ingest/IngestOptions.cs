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

    /// <summary>Larger messages are dead-lettered unread.</summary>
    [Range(64, 1024 * 1024, ErrorMessage = "Ingest:MaxPayloadBytes must be between 64 and 1048576.")]
    public int MaxPayloadBytes { get; set; } = InteractionEventValidator.DefaultMaxPayloadBytes;

    /// <summary>Pause before the same batch is tried again once the Polly pipeline has given up (Redis or Kafka down).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00", ErrorMessage = "Ingest:RetryPause must be between 10 ms and 10 minutes.")]
    public TimeSpan RetryPause { get; set; } = TimeSpan.FromSeconds(1);
}
