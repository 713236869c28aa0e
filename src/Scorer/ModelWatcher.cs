using System.Text.Json;
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
    private static readonly TimeSpan StartupPoll = TimeSpan.FromSeconds(1);

    private readonly ScoringOptions _options = options.Value;
    private readonly HashSet<string> _refused = new(StringComparer.Ordinal);
    private string? _loaded;
    private bool _reportedEmpty;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stoppingToken)
    {
        var group = $"{_options.GroupId}-models-{Guid.NewGuid():N}";
        using var consumer = kafka.CreateConsumer<string, byte[]>(group, c => c.AutoOffsetReset = Confluent.Kafka.AutoOffsetReset.Latest);
        consumer.Subscribe(kafka.Topics.Models);
        Directory.CreateDirectory(_options.ModelCacheDirectory);
        CheckCurrent(stoppingToken);

        while (!stoppingToken.IsCancellationRequested)
        {
            var result = consumer.Consume(_loaded is null ? StartupPoll : _options.ModelPollInterval);
            if (stoppingToken.IsCancellationRequested) break;
            if (result is { IsPartitionEOF: false, Message.Value: { } value })
            {
                try
                {
                    var announcement = ScorerJsonContext.DeserializeModelAnnouncement(value);
                    logger.LogInformation("Model {Version} announced ({Reason}, published {PublishedAt:O})",
                        announcement.Version, announcement.Reason, announcement.PublishedAt);
                }
                catch (JsonException e)
                {
                    logger.LogWarning("Ignoring a malformed model announcement at {Offset}: {Error}", result.TopicPartitionOffset, e.Message);
                }
                // An announcement may mean a refused version was published again (and so repaired): try it again.
                _refused.Clear();
            }
            CheckCurrent(stoppingToken);
        }
        consumer.Close();
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
