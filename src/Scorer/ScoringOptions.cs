using System.ComponentModel.DataAnnotations;

namespace PopSteer.Scorer;

/// <summary>Section "Scoring": how the Scorer batches, ranks and where it runs. Read once at start-up.</summary>
public sealed class ScoringOptions
{
    public const string SectionName = "Scoring";

    /// <summary>Most distinct signals taken into one micro-batch (one model call).</summary>
    [Range(1, 100_000, ErrorMessage = "Scoring:MaxBatchSize must be between 1 and 100000.")]
    public int MaxBatchSize { get; set; } = 256;

    /// <summary>Longest a batch may wait for more signals after its first one arrived (a bound: see <see cref="ArrivalGap"/>).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00", ErrorMessage = "Scoring:MaxBatchWait must be between 00:00:00 and 00:01:00.")]
    public TimeSpan MaxBatchWait { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Once the input is drained a batch of at least this many signals is scored at once; a smaller one waits for more only while signals keep arriving.</summary>
    [Range(1, 100_000, ErrorMessage = "Scoring:PreferredBatchSize must be between 1 and 100000.")]
    public int PreferredBatchSize { get; set; } = 64;

    /// <summary>
    /// Batches of at most this many users are scored by the managed SIMD path instead of libtorch (0: always libtorch).
    /// At batch 1 the managed path is several times faster (libtorch's cost there is per operation) and it stays ahead up
    /// to the 1,024 users measured (`PopSteer.Bench scoring`, docs/speed.md), so by default every batch takes it on a CPU.
    /// It splits a batch over `TorchThreads` threads. Rankings are the same on both paths.
    /// </summary>
    [Range(0, 100_000, ErrorMessage = "Scoring:SmallBatchLimit must be between 0 and 100000.")]
    public int SmallBatchLimit { get; set; } = PopSteer.Core.Scoring.PopSteerModel.DefaultSmallBatchLimit;

    /// <summary>How long a drained, below-preferred batch waits for one more signal before it is scored (0: never waits).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:01", ErrorMessage = "Scoring:ArrivalGap must be between 00:00:00 and 00:00:01.")]
    public TimeSpan ArrivalGap { get; set; } = TimeSpan.FromMilliseconds(1);

    /// <summary>
    /// Batches whose recommendations may be awaiting their delivery reports at once. At 2 (the default) the next batch
    /// is collected, read and scored while the last one's reports come in; offsets are still committed in order, each
    /// batch only after all of its reports. 1: each batch waits for its reports and commit before the next is taken.
    /// </summary>
    [Range(1, 16, ErrorMessage = "Scoring:BatchesInFlight must be between 1 and 16.")]
    public int BatchesInFlight { get; set; } = 2;

    /// <summary>
    /// When a backlog already holds the next full batch, take it before the current one is scored and start its Redis
    /// read, so the read's round trip overlaps the model call (false: each batch is read after it is assembled). Only a
    /// full batch is read ahead; a light stream's batching is unchanged.
    /// </summary>
    public bool ReadAhead { get; set; } = true;

    /// <summary>
    /// Full batches (<see cref="MaxBatchSize"/> signals: a backlog) whose Redis read and model call may run at once, on
    /// pool threads, while the loop collects the next one. A full batch that starts alone is split over
    /// <c>TorchThreads</c> threads; one that starts while another is being scored gets one thread. A smaller batch (a
    /// stream) waits until none is being scored and is scored by the loop itself, as with 1. Finished batches are
    /// published in the order they were started, so a user's recommendations keep the order of their signals.
    /// 1 (the default): the loop scores each batch itself, with <see cref="ReadAhead"/>; above 1, read-ahead is not
    /// used (the next batch's read already overlaps the scoring). 2 drained the Scorer's bench backlog faster (2-39% more
    /// recommendations/s in each of seven alternating pairs), but four demo floods, where Ingest shares the cores, showed
    /// no higher maximum. When a stream's batches also went to the pool, its p99 at half the maximum rate was higher in
    /// 7 of 8 pairs; since they stay on the loop, it was lower in 1 of 3 pairs, inside the noise. So 1 stays the default
    /// (docs/speed.md). Applies only when every batch takes the managed CPU path (a CPU model and
    /// <see cref="SmallBatchLimit"/> at least <see cref="MaxBatchSize"/>); a GPU scores one at a time.
    /// </summary>
    [Range(1, 8, ErrorMessage = "Scoring:ConcurrentBatches must be between 1 and 8.")]
    public int ConcurrentBatches { get; set; } = 1;

    /// <summary>Length of each recommendation list.</summary>
    [Range(1, 1000, ErrorMessage = "Scoring:TopK must be between 1 and 1000.")]
    public int TopK { get; set; } = 10;

    /// <summary>Leave items the user has already consumed out of the list (METHOD.md default: keep them).</summary>
    public bool ExcludeSeen { get; set; }

    /// <summary>What users with no scorable history (no item the model knows) get.</summary>
    public FallbackMode Fallback { get; set; } = FallbackMode.SteeredGlobal;

    /// <summary>cpu, cuda or auto.</summary>
    [Required, RegularExpression("^(cpu|cuda|auto)$", ErrorMessage = "Scoring:Device must be cpu, cuda or auto.")]
    public string Device { get; set; } = "cpu";

    /// <summary>libtorch intra-op threads for scoring; 0 keeps libtorch's default (all cores).</summary>
    [Range(0, 1024, ErrorMessage = "Scoring:TorchThreads must be between 0 (libtorch default) and 1024.")]
    public int TorchThreads { get; set; }

    /// <summary>Consumer group of the users-changed consumer.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Scoring:GroupId must not be empty.")]
    public string GroupId { get; set; } = "popsteer-scorer";

    /// <summary>Where downloaded model versions are kept (one verified directory per version).</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Scoring:ModelCacheDirectory must not be empty.")]
    public string ModelCacheDirectory { get; set; } = Path.Combine(Path.GetTempPath(), "popsteer-scorer-models");

    /// <summary>
    /// How often the model watcher re-reads the registry's <c>current</c> even without an announcement
    /// (covers an announcement lost while this instance was subscribing).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00", ErrorMessage = "Scoring:ModelPollInterval must be between 100 ms and 1 hour.")]
    public TimeSpan ModelPollInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Attempts a batch gets while it keeps failing for a reason that is not transient (a malformed stored sequence,
    /// a model exception, a message Kafka refuses). After that it is scored user by user: the users that still
    /// fail are dead-lettered with the reason, the rest are published, and the batch is committed. Transient
    /// failures (Redis or Kafka unreachable) never count: they are retried until they clear, and nothing is set aside.
    /// </summary>
    [Range(1, 100, ErrorMessage = "Scoring:MaxBatchAttempts must be between 1 and 100.")]
    public int MaxBatchAttempts { get; set; } = 3;

    /// <summary>
    /// Most bytes of an original message copied into a dead letter; a longer one is cut there and the letter keeps
    /// its full length and SHA-256, so a dead letter always fits Kafka's message size.
    /// </summary>
    [Range(0, 512 * 1024, ErrorMessage = "Scoring:DeadLetterMaxPayloadBytes must be between 0 and 524288.")]
    public int DeadLetterMaxPayloadBytes { get; set; } = 64 * 1024;

    /// <summary>Model versions kept in <see cref="ModelCacheDirectory"/> (the serving one included); older ones are deleted.</summary>
    [Range(1, 100, ErrorMessage = "Scoring:ModelCacheVersions must be between 1 and 100.")]
    public int ModelCacheVersions { get; set; } = 2;

    /// <summary>Served lists kept for the sliding-window tail share and Gini metrics.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Scoring:MetricsWindow must be between 1 and 1000000.")]
    public int MetricsWindow { get; set; } = 2000;

    /// <summary>Every N-th user (by id hash) is also scored unsteered, for the shadow tail share and Gini metrics; 0 turns it off.</summary>
    [Range(0, 1_000_000, ErrorMessage = "Scoring:ShadowSampleEvery must be between 0 (off) and 1000000.")]
    public int ShadowSampleEvery { get; set; } = 16;
}
