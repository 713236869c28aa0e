namespace PopSteer.Chaos;

/// <summary>What one drill run does. scripts/chaos.sh sets the full drill; the CI test a short one.</summary>
public sealed record DrillOptions
{
    public int Seed { get; init; } = 1;

    /// <summary>How long events are replayed and faults injected; the drain follows.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Longest wait after the replay for every event to be in Redis and every user to have a fresh recommendation.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Users replayed and events per user (each user's first events of the generated data, in time order).</summary>
    public int Users { get; init; } = 300;
    public int EventsPerUser { get; init; } = 10;

    public int IngestReplicas { get; init; } = 2;
    public int ScorerReplicas { get; init; } = 2;
    public bool Retrainer { get; init; } = true;

    /// <summary>Faults to inject; the rest are not scheduled (and get no table row).</summary>
    public IReadOnlySet<FaultKind> Faults { get; init; } = new HashSet<FaultKind>(PopSteer.Chaos.Faults.All);

    /// <summary>Process faults hit every replica (the full drill) rather than one seeded replica (the short one).</summary>
    public bool EveryReplica { get; init; } = true;

    /// <summary>How many valid live alpha edits are scheduled.</summary>
    public int AlphaEdits { get; init; } = 2;

    /// <summary>Malformed kinds whose fix is not in yet (<see cref="MalformedKind.PendingFix"/>) are sent too.</summary>
    public bool IncludePendingMalformed { get; init; } = true;

    /// <summary>A model directory to publish; null fits one with `popsteer fit` on the generated data (cached).</summary>
    public string? ModelDirectory { get; init; }

    /// <summary>The interaction file replayed (and fitted on); null generates one with `popsteer generate`.</summary>
    public string? DataFile { get; init; }

    /// <summary>Where the fitted model and its generated data are cached between runs.</summary>
    public string CacheDirectory { get; init; } = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "popsteer", "chaos");

    /// <summary>The run's logs, Redis AOF, config file and model caches; a fresh temp directory when null.</summary>
    public string? WorkDirectory { get; init; }

    /// <summary>The repository root (the built services are under src/*/bin/Release/net10.0/linux-x64/); found from the current directory when null.</summary>
    public string? RepositoryRoot { get; init; }

    /// <summary>Extra environment for every service (Section__Key=value), e.g. a model-signing public key.</summary>
    public IReadOnlyDictionary<string, string> ServiceEnvironment { get; init; } = new Dictionary<string, string>();

    /// <summary>Extra arguments to `popsteer publish` (e.g. a signing key).</summary>
    public IReadOnlyList<string> PublishArguments { get; init; } = [];

    /// <summary>After a config-file write, how long the Scorers may take to apply it (reload debounce + a batch).</summary>
    public TimeSpan ConfigGrace { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>How long a bad config file stays before the drill writes a valid one again.</summary>
    public TimeSpan ConfigFaultHold { get; init; } = TimeSpan.FromSeconds(12);
}
