using System.Diagnostics;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PopSteer.Core.Scoring;
using PopSteer.Core.Storage;
using PopSteer.Streaming.Contracts;
using PopSteer.Streaming.Kafka;
using PopSteer.Streaming.Registry;

namespace PopSteer.Scorer;

/// <summary>
/// Keeps <see cref="ModelHolder"/> on the registry's <c>current</c> version: loads it at start, then follows the
/// models topic with its own consumer (a group unique to this instance, starting at the end, no commits). Each
/// announcement, and every <c>Scoring:ModelPollInterval</c>, it re-reads <c>current</c>; a new version is downloaded
/// into the cache directory, verified, loaded on this thread and offered to the loop, which swaps between batches.
/// A version that fails verification or loading is refused (logged) and the old one keeps serving; with nothing
/// serving yet, the newest older version that verifies is loaded instead. The cache keeps only the newest
/// <c>Scoring:ModelCacheVersions</c> versions.
/// </summary>
public sealed class ModelWatcher(
    KafkaClientFactory kafka,
    ModelRegistry registry,
    ModelHolder holder,
    ScorerMetrics metrics,
    IOptions<ScoringOptions> options,
    ILogger<ModelWatcher> logger) : BackgroundService
{
    // Consume in short slices so a fresh assignment is followed by a registry check promptly.
    private static readonly TimeSpan ConsumeSlice = TimeSpan.FromSeconds(1);

    private readonly ScoringOptions _options = options.Value;
    private readonly HashSet<string> _refused = new(StringComparer.Ordinal);
    private string? _loaded;
    private bool _reportedEmpty;
    private string? _reportedNoFallback;
    private int _assignedSinceCheck;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stoppingToken)
    {
        Thread.CurrentThread.Name = "ps-model-watch"; // the OS thread name too: per-thread CPU (top -H, the demo) tells the loops apart
        var group = $"{_options.GroupId}-models-{Guid.NewGuid():N}";
        using var consumer = kafka.CreateConsumer<string, byte[]>(
            group,
            c => c.AutoOffsetReset = AutoOffsetReset.Latest,
            b => b.SetPartitionsAssignedHandler((c, partitions) => StartAtEnd(c, partitions)));
        consumer.Subscribe(kafka.Topics.Models);
        Directory.CreateDirectory(_options.ModelCacheDirectory);
        CheckCurrent(stoppingToken);
        var sinceCheck = Stopwatch.StartNew();

        while (!stoppingToken.IsCancellationRequested)
        {
            ConsumeResult<string, byte[]>? result;
            try
            {
                result = consumer.Consume(ConsumeSlice);
            }
            catch (ConsumeException e) when (!e.Error.IsFatal)
            {
                // The models topic appears with the first announcement; until then librdkafka says it is unknown.
                logger.LogDebug("Consuming {Topic}: {Reason}", kafka.Topics.Models, e.Error.Reason);
                stoppingToken.WaitHandle.WaitOne(ConsumeSlice);
                result = null;
            }
            if (stoppingToken.IsCancellationRequested) break;

            bool announced = result is { IsPartitionEOF: false, Message.Value: not null };
            if (announced)
            {
                try
                {
                    var announcement = ScorerJsonContext.DeserializeModelAnnouncement(result!.Message.Value);
                    logger.LogInformation("Model {Version} announced ({Reason}, published {PublishedAt:O})",
                        announcement.Version, announcement.Reason, announcement.PublishedAt);
                }
                catch (JsonException e)
                {
                    logger.LogWarning("Ignoring a malformed model announcement at {Offset}: {Error}", result!.TopicPartitionOffset, e.Message);
                }
                // An announcement may mean a refused version was published again (and so repaired): try it again.
                _refused.Clear();
            }
            bool assigned = Interlocked.Exchange(ref _assignedSinceCheck, 0) == 1;
            var interval = _loaded is null ? ConsumeSlice : _options.ModelPollInterval;
            if (announced || assigned || sinceCheck.Elapsed >= interval)
            {
                CheckCurrent(stoppingToken);
                sinceCheck.Restart();
            }
        }
        consumer.Close();
    }

    /// <summary>
    /// Pins each newly assigned partition at its current end and asks for a registry check right after: whatever was
    /// announced before that point is already visible in <c>current</c>, whatever comes after is consumed.
    /// </summary>
    private IEnumerable<TopicPartitionOffset> StartAtEnd(IConsumer<string, byte[]> consumer, List<TopicPartition> partitions)
    {
        Interlocked.Exchange(ref _assignedSinceCheck, 1);
        var offsets = new List<TopicPartitionOffset>(partitions.Count);
        foreach (var partition in partitions)
        {
            try
            {
                offsets.Add(new TopicPartitionOffset(partition, consumer.QueryWatermarkOffsets(partition, TimeSpan.FromSeconds(5)).High));
            }
            catch (KafkaException)
            {
                offsets.Add(new TopicPartitionOffset(partition, Offset.End));
            }
        }
        return offsets;
    }

    private void CheckCurrent(CancellationToken stoppingToken)
    {
        string? version;
        try
        {
            version = registry.GetCurrentAsync(stoppingToken).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning("Could not read the registry's current version ({Error}); still serving {Version}", e.Message, _loaded ?? "nothing");
            return;
        }
        catch (OperationCanceledException)
        {
            return;
        }
        if (version is null)
        {
            if (!_reportedEmpty) logger.LogWarning("The model registry is empty: publish a model (popsteer publish --model DIR)");
            _reportedEmpty = true;
            return;
        }
        if (version == _loaded) return;
        if (!_refused.Contains(version) && TryLoad(version, "current", stoppingToken) != LoadOutcome.Refused) return;
        // `current` is refused. Something already serving keeps serving; with nothing loaded (a new or restarted
        // Scorer after one bad publish) fall back to the newest older version that verifies, rather than serve nobody.
        if (_loaded is null) FallBack(version, stoppingToken);
    }

    private enum LoadOutcome { Loaded, Refused, Retry }

    /// <summary>Downloads, verifies and loads one version and offers it to the loop; a version that cannot be trusted is refused.</summary>
    private LoadOutcome TryLoad(string version, string role, CancellationToken stoppingToken)
    {
        var directory = Path.Combine(_options.ModelCacheDirectory, version);
        PopSteerModel? model = null;
        try
        {
            registry.DownloadAsync(version, directory, stoppingToken).GetAwaiter().GetResult();
            model = PopSteerModel.Load(directory, _options.Device);
            model.SmallBatchLimit = _options.SmallBatchLimit;
            if (model.Version != version)
                throw new ModelRegistryException($"Model version '{version}' loaded as '{model.Version}'.");
            holder.Offer(new ServingModel(version, model));
            logger.LogInformation("Model {Version} ({Role}) loaded from the registry (was {Old}); the next batch uses it", version, role, _loaded ?? "none");
            var previous = _loaded;
            _loaded = version;
            PruneCache(version, previous);
            return LoadOutcome.Loaded;
        }
        catch (Exception e) when (e is ModelRegistryException or ModelFormatException or IOException or InvalidDataException)
        {
            model?.Dispose();
            _refused.Add(version);
            metrics.ModelRefused();
            logger.LogError("Refused model version {Version} ({Role}): {Error}. Still serving {Old}", version, role, e.Message, _loaded ?? "nothing");
            // A copy that did not verify or load is of no use to anyone: do not leave it in the cache.
            TryDelete(directory);
            return LoadOutcome.Refused;
        }
        catch (OperationCanceledException)
        {
            return LoadOutcome.Retry;
        }
        catch (Exception e)
        {
            // Redis unreachable and the like: not the version's fault, so it is tried again at the next poll.
            model?.Dispose();
            logger.LogWarning("Could not load model version {Version} ({Error}); will retry", version, e.Message);
            return LoadOutcome.Retry;
        }
    }

    /// <summary>Tries the registry's other versions, newest first, until one verifies and loads.</summary>
    private void FallBack(string refusedCurrent, CancellationToken stoppingToken)
    {
        IReadOnlyList<ModelVersionInfo> versions;
        try
        {
            versions = registry.ListAsync(stoppingToken).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning("Could not list the registry's versions for a fallback ({Error}); will retry", e.Message);
            return;
        }
        catch (OperationCanceledException)
        {
            return;
        }
        foreach (var candidate in versions.OrderByDescending(v => v.PublishedAt).Select(v => v.Version))
        {
            if (candidate == refusedCurrent || _refused.Contains(candidate)) continue;
            var outcome = TryLoad(candidate, "fallback", stoppingToken);
            if (outcome == LoadOutcome.Retry) return;
            if (outcome == LoadOutcome.Loaded)
            {
                metrics.ModelFallback();
                logger.LogError("Serving older version {Version} because current {Current} was refused; publish or roll back to a version that verifies",
                    candidate, refusedCurrent);
                return;
            }
        }
        if (_reportedNoFallback != refusedCurrent)
            logger.LogError("No version in the registry verifies (current {Current} refused); serving nothing until one is published", refusedCurrent);
        _reportedNoFallback = refusedCurrent;
    }

    /// <summary>
    /// Keeps the newest <c>Scoring:ModelCacheVersions</c> version directories (always the one just loaded and the one
    /// it replaces, which still serves until the next batch) and deletes the rest, plus staging leftovers of
    /// downloads that died (older than an hour, so a download in flight elsewhere is never touched).
    /// </summary>
    private void PruneCache(string loaded, string? previous)
    {
        try
        {
            var root = new DirectoryInfo(_options.ModelCacheDirectory);
            var keep = new HashSet<string>(StringComparer.Ordinal) { loaded };
            if (previous is not null) keep.Add(previous);
            var dirs = root.GetDirectories();
            foreach (var d in dirs.Where(d => !d.Name.Contains(".partial-", StringComparison.Ordinal)).OrderByDescending(d => d.LastWriteTimeUtc))
            {
                if (keep.Count < _options.ModelCacheVersions) keep.Add(d.Name);
                if (!keep.Contains(d.Name)) TryDelete(d.FullName);
            }
            foreach (var d in dirs.Where(d => d.Name.Contains(".partial-", StringComparison.Ordinal) && d.LastWriteTimeUtc < DateTime.UtcNow.AddHours(-1)))
                TryDelete(d.FullName);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("Could not prune the model cache {Directory}: {Error}", _options.ModelCacheDirectory, e.Message);
        }
    }

    private void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("Could not delete {Directory}: {Error}", directory, e.Message);
        }
    }
}
