using System.Globalization;
using Microsoft.Extensions.Options;
using PopSteer.Core.Data;
using PopSteer.Core.Storage;
using PopSteer.Streaming.Registry;
using PopSteer.Streaming.Resilience;
using PopSteer.Streaming.Sequences;

namespace PopSteer.Retrainer;

/// <summary>
/// Every CheckInterval: measures drift between the live popularity (<see cref="PopularityTracker"/>) and the model the
/// registry serves, exports it, and when it is over the threshold and enough events arrived since the last attempt,
/// refits (<see cref="ModelRefitter"/>) on the recent users' Redis sequences and publishes the result if it passes
/// validation; the registry's announcement makes the Scorers hot-swap. Runs on its own thread (the torch work is
/// synchronous); ExecuteAsync returns it, so shutdown waits for a refit in progress to stop at its next check.
/// </summary>
public sealed class RetrainerWorker(
    PopularityTracker tracker,
    PopularityCheckpoint checkpoint,
    ModelRegistry registry,
    SequenceStore sequences,
    ModelRefitter refitter,
    RetrainerMetrics metrics,
    RetrainerLease lease,
    IConfiguration configuration,
    IOptions<RetrainerOptions> options,
    ILogger<RetrainerWorker> logger) : BackgroundService
{
    private const int ReadChunk = 1000;
    private readonly RetrainerOptions _options = options.Value;
    private BaseModel? _base;
    private bool _warnedNoModel;

    /// <summary>The last drift measured (null before the first measurement).</summary>
    public DriftReport? LastDrift { get; private set; }

    /// <summary>The last refit attempt (null before the first).</summary>
    public RefitResult? LastRefit { get; private set; }

    /// <summary>Raised when a refit starts, with the drift that started it.</summary>
    public event Action<DriftReport>? RefitStarted;

    /// <summary>Raised after each refit attempt, published or not.</summary>
    public event Action<RefitResult>? RefitCompleted;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stopping)
    {
        Thread.CurrentThread.Name = "ps-retrainer"; // the OS thread name too: per-thread CPU (top -H, the demo) tells the loops apart
        Directory.CreateDirectory(_options.WorkDirectory);
        try
        {
            tracker.Restored.Wait(stopping);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                Check(stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (StreamingResilience.IsTransientRedis(e) || StreamingResilience.IsTransientKafka(e) || e is Polly.CircuitBreaker.BrokenCircuitException)
            {
                logger.LogWarning("Drift check skipped: {Error}", e.Message);
            }
            catch (Exception e) when (e is ModelRegistryException or ModelFormatException or IOException)
            {
                logger.LogError(e, "Drift check failed");
            }
            stopping.WaitHandle.WaitOne(_options.CheckInterval);
        }
    }

    /// <summary>One drift measurement and, when due, one refit.</summary>
    internal void Check(CancellationToken stopping)
    {
        // A standby counts nothing and must not publish: only the lease holder measures and refits.
        if (lease.Current is not { } held) return;
        var current = registry.GetCurrentAsync(stopping).GetAwaiter().GetResult();
        if (current is null)
        {
            if (!_warnedNoModel) logger.LogWarning("No model version published yet: nothing to measure drift against");
            _warnedNoModel = true;
            return;
        }
        if (_base?.Version != current) _base = Download(current, stopping);

        var live = tracker.Snapshot();
        if (live.Events == 0) return;
        var drift = DriftDetector.Compare(_base.Version, live.Counts, _base.Items, _base.Groups) with { Events = live.Events };
        LastDrift = drift;
        metrics.Drift(drift, live.EventsSinceRefit);
        logger.LogDebug("Drift of {Version}: JS {Js:0.0000} bits (sampling noise {Noise:0.0000}), head overlap {Overlap:0.00}, {Since} events since the last refit",
            drift.ModelVersion, drift.JsDivergence, drift.SamplingNoiseJs, drift.HeadOverlap, live.EventsSinceRefit);
        bool newItems = ModelRefitter.AdmitsNewItems(_options, drift);
        if (!(drift.Exceeds(_options.DriftThreshold, _options.MinHeadOverlap) || newItems) || live.EventsSinceRefit < _options.MinEventsBetweenRefits) return;

        logger.LogInformation("Popularity drifted from {Version} (JS {Js:0.0000} bits, {Excess:0.0000} above its sampling noise, >= {Threshold}, head overlap {Overlap:0.00} < {MinOverlap} or unknown-item share {Unknown:0.000} >= {NewShare}) after {Events} events: refitting",
            drift.ModelVersion, drift.JsDivergence, drift.ExcessJs, _options.DriftThreshold, drift.HeadOverlap, _options.MinHeadOverlap, drift.UnknownShare, _options.NewItemsShare, live.EventsSinceRefit);
        tracker.RefitAttempted();
        RefitStarted?.Invoke(drift);
        RefitResult result;
        try
        {
            using var tenure = CancellationTokenSource.CreateLinkedTokenSource(stopping, held.Lost);
            result = Refit(_base, live, drift, held, tenure.Token);
        }
        catch (Exception e) when (e is not OperationCanceledException || !stopping.IsCancellationRequested)
        {
            logger.LogError(e, "Refit of {Version} failed", _base.Version);
            result = RefitResult.Failed(_base.Version, e.Message);
        }
        if (result.Outcome != RefitOutcome.Published)
            logger.LogWarning("Refit of {Version} not published ({Outcome}): {Problems}", result.BaseVersion, result.Outcome, string.Join("; ", result.Problems));
        metrics.Refit(result);
        LastRefit = result;
        RefitCompleted?.Invoke(result);
        Prune();
    }

    private RefitResult Refit(BaseModel model, PopularitySnapshot live, DriftReport drift, RetrainerLease.Held held, CancellationToken stopping)
    {
        var users = tracker.PendingUsers().Concat(checkpoint.RecentUsersAsync(_options.MaxUsers, stopping).GetAwaiter().GetResult())
            .Distinct(StringComparer.Ordinal).Take(_options.MaxUsers).ToArray();
        var histories = new List<UserSequence>(users.Length);
        foreach (var chunk in users.Chunk(ReadChunk))
            histories.AddRange(sequences.ReadManyAsync(chunk, stopping).GetAwaiter().GetResult());

        RefitSteering steering;
        try
        {
            steering = Steering(model.Manifest);
        }
        catch (InvalidOperationException e)
        {
            return RefitResult.Failed(model.Version, $"cannot read the Steering section to validate with: {e.Message}");
        }
        var output = Path.Combine(_options.WorkDirectory, "refit-" + DateTimeOffset.UtcNow.ToString("yyyyMMddTHHmmssfff", CultureInfo.InvariantCulture));
        var result = refitter.Refit(model.Directory, output, live, drift, histories, steering, stopping);
        if (result.Outcome != RefitOutcome.Published) return result;
        ModelVersionInfo info;
        try
        {
            info = registry.PublishAsync(output, held.Fence, stopping).GetAwaiter().GetResult();
        }
        catch (ModelRegistryException e) when (e.InnerException is StackExchange.Redis.RedisServerException)
        {
            lease.ReportLost(held, e.Message);
            return RefitResult.Failed(model.Version, e.Message) with { Directory = output };
        }
        logger.LogInformation("Published refit {Version} (from {Base}); Scorers swap on the announcement", info.Version, model.Version);
        return result with { PublishedVersion = info.Version };
    }

    /// <summary>The steering the Scorers use: the shared "Steering" section, else the model's tuned default, else the Scorer's default.</summary>
    private RefitSteering Steering(ModelManifest manifest)
    {
        var section = configuration.GetSection("Steering");
        double alpha = section.GetValue<double?>("Alpha") ?? manifest.Steering?.Alpha ?? 1.5;
        int? neurons = section.GetValue<int?>("Neurons") ?? manifest.Steering?.Neurons;
        return new RefitSteering(alpha, neurons);
    }

    private BaseModel Download(string version, CancellationToken stopping)
    {
        var directory = Path.Combine(_options.WorkDirectory, "base-" + version);
        var manifest = registry.DownloadAsync(version, directory, stopping).GetAwaiter().GetResult();
        var groups = ModelDirectory.LoadGroups(directory, manifest);
        if (_base is not null && _base.Directory != directory && Directory.Exists(_base.Directory))
            Directory.Delete(_base.Directory, recursive: true);
        logger.LogInformation("Measuring drift against model {Version} ({Items} items)", version, manifest.Items.Count);
        return new BaseModel(version, directory, manifest, ModelDirectory.LoadItems(manifest), groups);
    }

    /// <summary>Keeps the newest three refit directories (published ones live on in the registry).</summary>
    private void Prune()
    {
        foreach (var old in Directory.GetDirectories(_options.WorkDirectory, "refit-*").Order(StringComparer.Ordinal).SkipLast(3))
        {
            try { Directory.Delete(old, recursive: true); }
            catch (IOException e) { logger.LogDebug("Could not remove {Directory}: {Error}", old, e.Message); }
        }
    }

    private sealed record BaseModel(string Version, string Directory, ModelManifest Manifest, ItemVocabulary Items, PopSteer.Core.Data.PopularityGroups Groups);
}
