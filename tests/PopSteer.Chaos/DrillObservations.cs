namespace PopSteer.Chaos;

/// <summary>A fault as it was actually injected (time, target, and what happened, e.g. "paused 7.2 s").</summary>
public sealed record ExecutedFault(DateTimeOffset At, FaultKind Kind, string? Target, string Detail);

/// <summary>A malformed message as sent: where Kafka put it, so its dead letter can be found by offset.</summary>
public sealed record SentMalformed(MalformedKind Kind, string Topic, int Partition, long Offset, string? DeliveryError);

/// <summary>The fields of a recommendation the checks need (read loosely, so contract additions never break the drill).</summary>
public sealed record SeenRecommendation(string UserId, string ModelVersion, double Alpha, DateTimeOffset GeneratedAt, long? EventTimestampMs, string? BatchId)
{
    /// <summary>When the triggering event entered Kafka (null when the Scorer had none): GeneratedAt - EnqueuedAt is the pipeline's latency.</summary>
    public DateTimeOffset? EnqueuedAt { get; init; }

    public string? Instance => BatchId is { } id && id.LastIndexOf('-') > 0 ? id[..id.LastIndexOf('-')] : null;
}

/// <summary>The fields of a dead letter the checks need.</summary>
public sealed record SeenDeadLetter(string Topic, int Partition, long Offset, string Code, string Reason, string Source);

/// <summary>Everything the drill saw, handed to <see cref="DrillReport"/> to judge.</summary>
public sealed record DrillObservations
{
    public required DrillOptions Options { get; init; }
    public required EventReplay Replay { get; init; }
    public required IReadOnlyList<ExecutedFault> Injected { get; init; }
    public required IReadOnlyList<ProcessExit> Exits { get; init; }
    public required IReadOnlyList<SeenRecommendation> Recommendations { get; init; }
    public required IReadOnlyList<SeenDeadLetter> DeadLetters { get; init; }
    public required IReadOnlyList<SentMalformed> Malformed { get; init; }
    /// <summary>Each replayed user's stored sequence in Redis: the entries' event times (unix ms), oldest first.</summary>
    public required IReadOnlyDictionary<string, IReadOnlyList<long>> Sequences { get; init; }
    public required IReadOnlyList<ConfigWrite> ConfigWrites { get; init; }
    /// <summary>Scorer instance id (the prefix of every batch id) -> when that process started.</summary>
    public required IReadOnlyDictionary<string, DateTimeOffset> ScorerInstances { get; init; }
    public required string ServedVersion { get; init; }
    public string? ForgedVersion { get; init; }
    /// <summary>Scorer processes that logged loading the forged version (each load is a Scorer ready to serve it).</summary>
    public IReadOnlyList<string> ForgedLoads { get; init; } = [];
    /// <summary>The model was published signed and the Scorers were given the public key.</summary>
    public bool Signed { get; init; }
    /// <summary>Services not running when the drill ended.</summary>
    public required IReadOnlyList<string> DownAtEnd { get; init; }
    /// <summary>Notes the drill made while running (a SIGTERM that hung, a fault it could not inject).</summary>
    public required IReadOnlyList<string> Incidents { get; init; }
    public TimeSpan Drain { get; init; }
    public bool Drained { get; init; }
}
