using Microsoft.Extensions.DependencyInjection;
using PopSteer.Core.Data;
using PopSteer.Core.Storage;
using PopSteer.Core.Testing;
using PopSteer.Ingest;
using PopSteer.Retrainer;
using PopSteer.Scorer;
using PopSteer.Streaming.Contracts;
using PopSteer.Streaming.Registry;
using PopSteer.Streaming.Sequences;
using PopSteer.Streaming.Tests.Infrastructure;
using PopSteer.Streaming.Tests.Scoring;

namespace PopSteer.Streaming.Tests.Retraining;

/// <summary>
/// Drift to refit to hot swap, against a real redis-server and the mock cluster with a tiny real model: interaction
/// events on Kafka -> Ingest (Redis sequences) and the Retrainer's tracker (live popularity) -> drift over the
/// threshold -> refit on the Redis users -> validation -> publish -> the Scorer swaps to the new version.
/// </summary>
[Collection(RetrainerHostsCollection.Name)]
public sealed class RefitPipelineTests(RedisServerFixture redis, KafkaFixture kafka)
    : IClassFixture<RedisServerFixture>, IClassFixture<KafkaFixture>, IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);
    private const int Users = 60, PerUser = 10;
    private readonly ScratchDirectory _scratch = new();

    public void Dispose() => _scratch.Dispose();

    private static async Task<ModelVersionInfo> PublishAsync(TestSettings settings, string directory)
    {
        await using var services = new ServiceCollection().AddLogging().AddPopSteerStreamingForTests(settings).BuildServiceProvider();
        return await services.GetRequiredService<ModelRegistry>().PublishAsync(directory);
    }

    /// <summary>
    /// Produces the stream, waits until Ingest has stored every user's sequence, then one more event that brings the
    /// count to MinEventsBetweenRefits: the refit then sees every user's whole history, whatever the timing.
    /// </summary>
    private static async Task ProduceThenTriggerAsync(TestSettings settings, IServiceProvider services, List<InteractionEvent> events)
    {
        await KafkaTestClient.ProduceEventsAsync(settings.BootstrapServers, settings.InteractionsTopic, events);
        var store = services.GetRequiredService<SequenceStore>();
        var users = events.Select(e => e.UserId).Distinct().ToArray();
        await Eventually.Until(async () => (await store.ReadManyAsync(users)).All(u => u.Entries.Count == PerUser), Patience, () => "Ingest has not stored every sequence");
        var trigger = events[^1] with { EventId = "trigger", UserId = "user-trigger", Timestamp = events[^1].Timestamp.AddSeconds(1) };
        await KafkaTestClient.ProduceEventsAsync(settings.BootstrapServers, settings.InteractionsTopic, [trigger]);
    }

    private static async Task<(string? Current, int Versions)> RegistryStateAsync(TestSettings settings)
    {
        await using var services = new ServiceCollection().AddLogging().AddPopSteerStreamingForTests(settings).BuildServiceProvider();
        var registry = services.GetRequiredService<ModelRegistry>();
        return (await registry.GetCurrentAsync(), (await registry.ListAsync()).Count);
    }

    [Fact]
    public async Task Tail_items_becoming_popular_trigger_a_validated_refit_that_is_published_and_swapped_in_by_the_scorer()
    {
        var settings = RetrainerTestSettings.Create(kafka.BootstrapServers, redis.ConnectionString, _scratch.Sub("work"));
        var baseDir = _scratch.Sub("base");
        TinyModelFactory.Create(baseDir, items: 30, seed: 7);
        var original = await PublishAsync(settings, baseDir);
        var events = RetrainerTestSettings.DriftTowardsTail(baseDir, Users, PerUser, seed: 5);

        // The random-weight tiny model has no accuracy to keep: the validation bounds are wide here; the test
        // below shows a failing bound blocks publication.
        await using var pipeline = new ScorerTestHost(settings, _scratch.Sub("cache"), new Dictionary<string, string?>
        {
            ["Retrainer:MinEventsBetweenRefits"] = (Users * PerUser + 1).ToString(),
            ["Retrainer:DriftThreshold"] = "0.1",
            ["Retrainer:MaxFvu"] = "10",
            ["Retrainer:MaxNdcgDrop"] = "1",
            ["Retrainer:RequireGiniReduction"] = "false",
            ["Retrainer:MaxNdcgDropVsServing"] = "1",
            ["Retrainer:MaxGiniRiseVsServing"] = "1",
        }, (services, configuration) => services.AddIngest(configuration).AddRetrainer(configuration));
        var worker = pipeline.Services.GetRequiredService<RetrainerWorker>();
        var refits = new List<RefitResult>();
        worker.RefitCompleted += r => { lock (refits) refits.Add(r); };
        await pipeline.StartAsync();
        await pipeline.WaitForModelAsync(Patience);

        await ProduceThenTriggerAsync(settings, pipeline.Services, events);
        await Eventually.Until(() => { lock (refits) return refits.Count > 0; }, Patience, () => $"no refit; last drift {worker.LastDrift}");
        RefitResult refit;
        lock (refits) refit = refits[0];
        Assert.True(refit.Outcome == RefitOutcome.Published, $"{refit.Outcome}: {string.Join("; ", refit.Problems)}");
        Assert.Equal(original.Version, refit.BaseVersion);
        Assert.NotNull(refit.PublishedVersion);
        Assert.NotEqual(original.Version, refit.PublishedVersion);

        // The drift that triggered it, as measured against the serving model.
        var drift = worker.LastDrift!;
        Assert.True(drift.JsDivergence >= 0.1, $"JS {drift.JsDivergence}");

        // The registry serves the refit, and the Scorer swaps to it on the announcement.
        Assert.Equal(refit.PublishedVersion, (await RegistryStateAsync(settings)).Current);
        // The swap happens between batches: a later event makes the next one.
        var holder = pipeline.Services.GetRequiredService<ModelHolder>();
        var later = events[^1] with { EventId = "later", UserId = "user-later", Timestamp = events[^1].Timestamp.AddMinutes(1) };
        await KafkaTestClient.ProduceEventsAsync(settings.BootstrapServers, settings.InteractionsTopic, [later]);
        await Eventually.Until(() => holder.ServingVersion == refit.PublishedVersion, Patience, () => $"scorer still serves {holder.ServingVersion}");

        // Same SASRec and items; new popularity groups (the old tail is now head) and new neuron statistics.
        var oldManifest = ModelDirectory.Verify(baseDir);
        var newManifest = ModelDirectory.Verify(refit.Directory!);
        Assert.Equal(oldManifest.Files[ModelDirectory.SasRecFile], newManifest.Files[ModelDirectory.SasRecFile]);
        Assert.Equal(oldManifest.Items, newManifest.Items);
        var oldGroups = ModelDirectory.LoadGroups(baseDir, oldManifest);
        var newGroups = ModelDirectory.LoadGroups(refit.Directory!, newManifest);
        Assert.Contains(oldGroups.Items(PopularityGroup.Tail), i => newGroups[i] == PopularityGroup.Head);
        Assert.DoesNotContain(oldGroups.Items(PopularityGroup.Head), i => newGroups[i] == PopularityGroup.Head);
        var oldStats = ModelDirectory.LoadNeurons(baseDir, oldManifest);
        var newStats = ModelDirectory.LoadNeurons(refit.Directory!, newManifest);
        Assert.Equal(oldStats.Width, newStats.Width);
        Assert.False(oldStats.CohenD.SequenceEqual(newStats.CohenD), "Cohen's d did not change");
        Assert.False(oldStats.MuHead.SequenceEqual(newStats.MuHead), "mu (head) did not change");

        // The manifest records the drift and the validation it passed.
        Assert.Equal(original.Version, newManifest.Training["retrain.base_version"]);
        Assert.Equal(refit.Validation!.Users, (int)newManifest.Metrics["retrain.validation.users"]);
        Assert.Equal(Users, refit.Validation.Users); // every user holds out their last item (the trigger user has one item)
        Assert.Equal(1, newManifest.Metrics["retrain.validation.passed"]);
        Assert.True(newManifest.Metrics["retrain.drift.js_divergence"] >= 0.1);
        Assert.Equal(refit.Validation.Fvu, newManifest.Metrics["retrain.validation.fvu"]);
        Assert.Equal(refit.Validation.SasRec.Ndcg, newManifest.Metrics["retrain.validation.sasrec.ndcg@10"]);
    }

    [Fact]
    public async Task A_refit_failing_validation_is_logged_and_not_published()
    {
        var settings = RetrainerTestSettings.Create(kafka.BootstrapServers, redis.ConnectionString, _scratch.Sub("work"));
        var baseDir = _scratch.Sub("base");
        TinyModelFactory.Create(baseDir, items: 30, seed: 7);
        var original = await PublishAsync(settings, baseDir);
        var events = RetrainerTestSettings.DriftTowardsTail(baseDir, Users, PerUser, seed: 9);
        settings["Retrainer:MinEventsBetweenRefits"] = (Users * PerUser + 1).ToString();
        // The FVU bound is relative to the serving SAE's (MaxFvu is only its floor): an SAE fine-tuned at a learning
        // rate that wrecks it reconstructs the held-out users worse than the serving one, which no rise may excuse.
        settings["Retrainer:MaxFvu"] = "0";
        settings["Retrainer:MaxFvuRiseVsServing"] = "0";
        settings["Retrainer:RefitSae"] = "true";
        settings["Retrainer:SaeEpochs"] = "1";
        settings["Retrainer:SaeLearningRate"] = "1";
        settings["Retrainer:MaxNdcgDrop"] = "1";
        settings["Retrainer:RequireGiniReduction"] = "false";
        settings["Retrainer:MaxNdcgDropVsServing"] = "1";
        settings["Retrainer:MaxGiniRiseVsServing"] = "1";

        await using var host = await TestHost.StartAsync(settings, (s, c) => s.AddIngest(c).AddRetrainer(c));
        var worker = host.Services.GetRequiredService<RetrainerWorker>();
        await ProduceThenTriggerAsync(settings, host.Services, events);
        await Eventually.Until(() => worker.LastRefit is not null, Patience, () => $"no refit; last drift {worker.LastDrift}");

        var refit = worker.LastRefit!;
        Assert.True(refit.Outcome == RefitOutcome.Rejected, $"{refit.Outcome}: {string.Join("; ", refit.Problems)}");
        Assert.Null(refit.PublishedVersion);
        Assert.Contains(refit.Problems, p => p.Contains("Retrainer:MaxFvu", StringComparison.Ordinal));
        Assert.True(refit.Validation!.Fvu > refit.Validation.ServingFvu, $"FVU {refit.Validation.Fvu} vs serving {refit.Validation.ServingFvu}");
        // Nothing moved: the original is still current and the only version.
        Assert.Equal((original.Version, 1), await RegistryStateAsync(settings));
        // The rejected directory is complete and says why it was not published.
        var manifest = ModelDirectory.Verify(refit.Directory!);
        Assert.Equal(0, manifest.Metrics["retrain.validation.passed"]);
    }
}
