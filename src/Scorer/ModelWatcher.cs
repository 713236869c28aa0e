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
/// A version that fails verification or loading is refused (logged) and the old one keeps serving.
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
    private int _assignedSinceCheck;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stoppingToken)
    {
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
        if (version == _loaded || _refused.Contains(version)) return;

        var directory = Path.Combine(_options.ModelCacheDirectory, version);
        PopSteerModel? model = null;
        try
        {
            registry.DownloadAsync(version, directory, stoppingToken).GetAwaiter().GetResult();
            model = PopSteerModel.Load(directory, _options.Device);
            if (model.Version != version)
                throw new ModelRegistryException($"Model version '{version}' loaded as '{model.Version}'.");
            holder.Offer(new ServingModel(version, model));
            logger.LogInformation("Model {Version} loaded from the registry (was {Old}); the next batch uses it", version, _loaded ?? "none");
            _loaded = version;
        }
        catch (Exception e) when (e is ModelRegistryException or ModelFormatException or IOException or InvalidDataException)
        {
            model?.Dispose();
            _refused.Add(version);
            metrics.ModelRefused();
            logger.LogError("Refused model version {Version}: {Error}. Still serving {Old}", version, e.Message, _loaded ?? "nothing");
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e)
        {
            // Redis unreachable and the like: not the version's fault, so it is tried again at the next poll.
            model?.Dispose();
            logger.LogWarning("Could not load model version {Version} ({Error}); will retry", version, e.Message);
        }
    }
}
