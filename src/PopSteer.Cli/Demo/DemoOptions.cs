using PopSteer.Core.Data;

namespace PopSteer.Cli.Demo;

/// <summary>What `popsteer demo` runs; every field has a default that works on a fresh machine.</summary>
internal sealed record DemoOptions
{
    /// <summary>Interaction file; null = generate one (seeded).</summary>
    public string? DataPath { get; init; }
    public DataFormat Format { get; init; } = DataFormat.Auto;
    /// <summary>An existing model directory to serve instead of fitting one.</summary>
    public string? ModelDirectory { get; init; }
    /// <summary>Events per second of the live replay; 0 = as fast as possible (a load run).</summary>
    /// <remarks>50, not more: on 2 cores the refit with new items took 25-51 s (demo and drift bench), and the story needs thousands of
    /// events after the swap for its "after refit" row to be read (12,872 events, about 4.3 minutes).</remarks>
    public double Rate { get; init; } = 50;
    public const string DefaultSchedule = "0:0,15:1.5";
    public AlphaSchedule Schedule { get; init; } = AlphaSchedule.Parse(DefaultSchedule);
    /// <summary>Share of the live stream after which popularity drifts (<see cref="DriftScenario"/>); null = no drift.</summary>
    public double? DriftAt { get; init; } = 0.25;
    /// <summary>Configuration overrides for the hosted services (`--set Retrainer:SasRecFineTune=Never`), applied last.</summary>
    public IReadOnlyDictionary<string, string?> Settings { get; init; } = new Dictionary<string, string?>();
    /// <summary>Share of each user's events, latest in time, held out and replayed live; the rest trains the model.</summary>
    public double Holdout { get; init; } = 0.25;
    /// <summary>Stop after this long even if the replay has not finished; null = when everything is served.</summary>
    public TimeSpan? Duration { get; init; }
    public int GeneratedUsers { get; init; } = 1000;
    public int GeneratedItems { get; init; } = 500;
    public int GeneratedInteractions { get; init; } = 50_000;
    public int Epochs { get; init; } = 20;
    public int SaeEpochs { get; init; } = 10;
    public int Seed { get; init; } = 42;
    /// <summary>
    /// One user in this many gets an unsteered (and, after a refit, a stale) shadow list for the comparison. Every
    /// second user: at every fourth a run left ~1,000 lists after the refit, whose +- 2 SE (0.006) was as large as the
    /// lift it was meant to read; shadows at the demo's 50 events/s cost little.
    /// </summary>
    public int ShadowSampleEvery { get; init; } = 2;
    /// <summary>
    /// Trim the embedded broker's logs behind the committed offsets (<c>EmbeddedBrokerRetention</c>); false keeps every
    /// record, and a paced run then slows down as the mock's logs grow (docs/speed.md).
    /// </summary>
    public bool TrimBroker { get; init; } = true;
    /// <summary>
    /// Brokers in the embedded (mock) cluster. One by default: on one machine more brokers add no capacity, only work
    /// on the same cores (each consumer at the head of its partitions sends one fetch per broker every
    /// fetch.wait.max.ms), and the mock replicates nothing either way. Three cost 0.13-0.20 more cores and gave a higher
    /// steady p99 in each of three pairs at 1,884 events/s (docs/speed.md, 7 Dec night). The tests' broker and
    /// `popsteer broker` (the chaos harness) keep three, so clients still meet partitions led by different brokers.
    /// </summary>
    public int Brokers { get; init; } = 1;
    public string WorkDirectory { get; init; } = DefaultWorkDirectory();
    public bool Interactive { get; init; } = !Console.IsOutputRedirected;

    public void Validate()
    {
        if (!(Rate >= 0) || double.IsInfinity(Rate)) throw new ArgumentException("--rate must be >= 0 (0 = as fast as possible).");
        if (Holdout is <= 0 or >= 1 || double.IsNaN(Holdout)) throw new ArgumentException("--holdout must lie in (0, 1).");
        if (Duration is { } d && d <= TimeSpan.Zero) throw new ArgumentException("--duration must be positive.");
        if (DriftAt is { } at && (at is <= 0 or >= 1 || double.IsNaN(at))) throw new ArgumentException("--drift-at must lie in (0, 1) (the share of the stream before the drift).");
        if (ShadowSampleEvery < 1) throw new ArgumentException("--shadow-every must be at least 1.");
        if (Brokers < 1) throw new ArgumentException("--brokers must be at least 1.");
        if (DataPath is not null && !File.Exists(DataPath)) throw new FileNotFoundException($"Data file not found: {DataPath}", DataPath);
    }

    private static string DefaultWorkDirectory()
    {
        var cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (string.IsNullOrEmpty(cache)) cache = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(cache, "popsteer", "demo");
    }
}
