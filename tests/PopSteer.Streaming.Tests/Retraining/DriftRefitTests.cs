using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PopSteer.Core.Storage;
using PopSteer.Ingest;
using PopSteer.Retrainer;
using PopSteer.Scorer;
using PopSteer.Streaming.Contracts;
using PopSteer.Streaming.Registry;
using PopSteer.Streaming.Sequences;
using PopSteer.Streaming.Tests.Infrastructure;
using PopSteer.Streaming.Tests.Scoring;

namespace PopSteer.Streaming.Tests.Retraining;

/// <summary>One briefly trained tiny model and its drifting stream, shared by the tests of this class (fitted once).</summary>
public sealed class DriftWorldFixture : IDisposable
{
    private readonly ScratchDirectory _scratch = new();

    public DriftWorldFixture() => World = DriftWorld.Create(_scratch.Sub("model"));

    internal DriftWorld World { get; }

    public void Dispose() => _scratch.Dispose();
}

/// <summary>
/// Drift end to end on generated data with a drift at a known point (<see cref="DriftWorld"/>): real Kafka (mock
/// cluster), real redis-server, real Ingest, Retrainer and Scorer hosts, a trained tiny model.
/// </summary>
[Collection(RetrainerHostsCollection.Name)]
public sealed class DriftRefitTests(RedisServerFixture redis, KafkaFixture kafka, DriftWorldFixture fixture)
    : IClassFixture<RedisServerFixture>, IClassFixture<KafkaFixture>, IClassFixture<DriftWorldFixture>, IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);
    private readonly ScratchDirectory _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task A_drift_is_detected_after_its_point_and_the_refit_with_the_new_items_is_published_swapped_in_whole_batches_and_recommends_them()
    {
        var world = fixture.World;
        var settings = RetrainerTestSettings.Create(kafka.BootstrapServers, redis.ConnectionString, _scratch.Sub("work"));
        int driftAt = world.Plan.DriftAt;
        ModelVersionInfo original;
        await using (var services = new ServiceCollection().AddLogging().AddPopSteerStreamingForTests(settings).BuildServiceProvider())
            original = await services.GetRequiredService<ModelRegistry>().PublishAsync(world.ModelDirectory);

        // The topics exist before the services subscribe (deploy/k8s/base/topics-job.yaml): otherwise the Scorer,
        // subscribed to a users-changed topic Ingest has not created yet, only sees it at a metadata refresh, and may
        // start scoring after the swap, so the original version would never serve.
        KafkaTestClient.CreateTopics(settings.BootstrapServers,
            settings.InteractionsTopic, settings.UsersChangedTopic, settings["Kafka:Topics:Recommendations"]);
        await using var pipeline = new ScorerTestHost(settings, _scratch.Sub("cache"), new Dictionary<string, string?>
        {
            // Every event of the stream (and a trigger) must arrive before the first refit is allowed.
            ["Retrainer:MinEventsBetweenRefits"] = (world.Stream.Count + 1).ToString(),
            ["Retrainer:DriftThreshold"] = "0.5",
            ["Retrainer:MinHeadOverlap"] = "0",
            ["Retrainer:NewItemsShare"] = "0.02",
            ["Retrainer:NewItemMinCount"] = "3",
            ["Retrainer:SasRecEpochs"] = "10",
            ["Retrainer:SaeEpochs"] = "3",
            ["Retrainer:SaeLearningRate"] = "0.001",
            // What this test is about: the refit must not lose NDCG against what serves now.
            ["Retrainer:MaxNdcgDropVsServing"] = "0.05",
            // The tiny model's steering and SAE are not what is tested here.
            ["Retrainer:MaxNdcgDrop"] = "1",
            ["Retrainer:MaxFvu"] = "10",
            ["Retrainer:RequireGiniReduction"] = "false",
            ["Retrainer:MaxGiniRiseVsServing"] = "1",
        }, (services, configuration) => services.AddIngest(configuration).AddRetrainer(configuration));
        var worker = pipeline.Services.GetRequiredService<RetrainerWorker>();
        var tracker = pipeline.Services.GetRequiredService<PopularityTracker>();
        await pipeline.StartAsync();
        await pipeline.WaitForModelAsync(Patience);

        // Before the drift point: nothing the model does not know, no refit.
        await KafkaTestClient.ProduceEventsAsync(settings.BootstrapServers, settings.InteractionsTopic, world.Stream[..driftAt]);
        await Eventually.Until(() => tracker.Snapshot().Events == driftAt, Patience, () => $"{tracker.Snapshot().Events} of {driftAt} counted");
        await Eventually.Until(() => worker.LastDrift?.Events == driftAt, Patience, () => "no drift measured on the pre-drift events");
        var before = worker.LastDrift!;
        Assert.Equal(0, before.UnknownShare);
        Assert.Null(worker.LastRefit);
        // The original version serves the pre-drift users (what the swap must later replace whole batches of).
        KafkaTestClient.ConsumeValuesUntil(settings.BootstrapServers, settings["Kafka:Topics:Recommendations"], ScorerJsonContext.Default.Recommendation,
            seen => seen.Any(r => r.ModelVersion == original.Version), Patience);

        // After it: the new items' share passes Retrainer:NewItemsShare and the refit grows the item table.
        var refits = new List<RefitResult>();
        worker.RefitCompleted += r => { lock (refits) refits.Add(r); };
        await KafkaTestClient.ProduceEventsAsync(settings.BootstrapServers, settings.InteractionsTopic, world.Stream[driftAt..]);
        var store = pipeline.Services.GetRequiredService<SequenceStore>();
        var users = world.Stream.Select(e => e.UserId).Distinct().ToArray();
        int stored = 0;
        await Eventually.Until(async () => (stored = (await store.ReadManyAsync(users)).Sum(u => u.Entries.Count)) == world.Stream.Count, Patience,
            () => $"Ingest stored {stored} of {world.Stream.Count}");
        var trigger = world.Stream[^1] with { EventId = "trigger", UserId = "user-trigger", Timestamp = world.Stream[^1].Timestamp.AddSeconds(1) };
        await KafkaTestClient.ProduceEventsAsync(settings.BootstrapServers, settings.InteractionsTopic, [trigger]);
        await Eventually.Until(() => { lock (refits) return refits.Count > 0; }, Patience, () => $"no refit; last drift {worker.LastDrift}");
        RefitResult refit;
        lock (refits) refit = refits[0];
        Assert.True(refit.Outcome == RefitOutcome.Published, $"{refit.Outcome}: {string.Join("; ", refit.Problems)}");
        Assert.True(worker.LastDrift!.UnknownShare >= 0.02, $"unknown share {worker.LastDrift.UnknownShare}");
        Assert.True(refit.Validation!.ServingNdcgDrop <= 0.05, $"NDCG {refit.Validation.PopSteer.Ndcg} against serving {refit.Validation.Serving.Ndcg}");

        // The vocabulary: the serving items in their order, then the new items that passed NewItemMinCount.
        var oldManifest = ModelDirectory.Verify(world.ModelDirectory);
        var newManifest = ModelDirectory.Verify(refit.Directory!);
        Assert.Equal(oldManifest.Items, newManifest.Items.Take(oldManifest.Items.Count));
        var entered = newManifest.Items.Skip(oldManifest.Items.Count).ToArray();
        var frequentNew = world.Stream.Where(e => world.Plan.NewItems.Contains(e.ItemId)).GroupBy(e => e.ItemId).Where(g => g.Count() >= 3).Select(g => g.Key).ToArray();
        Assert.NotEmpty(frequentNew);
        Assert.Equal(frequentNew.Order(), entered.Order());
        Assert.Equal(newManifest.Items.Count, newManifest.SasRec.ItemCount);
        Assert.Equal("True", newManifest.Training["retrain.sasrec_fine_tuned"]);
        Assert.NotEqual(oldManifest.Files[ModelDirectory.SasRecFile], newManifest.Files[ModelDirectory.SasRecFile]);

        // The Scorer swaps; users who just interacted with a new item are recommended new items by the refit.
        var holder = pipeline.Services.GetRequiredService<ModelHolder>();
        var fans = world.Stream.Skip(driftAt).Where(e => entered.Contains(e.ItemId)).Select(e => e.UserId).Distinct().Take(30).ToArray();
        var follow = fans.Select((u, i) => new InteractionEvent
        {
            EventId = $"follow-{i}", UserId = u, ItemId = entered[i % entered.Length], Timestamp = trigger.Timestamp.AddMinutes(1 + i),
        }).ToList();
        // The swap happens between batches: one more event makes the next one.
        var nudge = trigger with { EventId = "nudge", Timestamp = trigger.Timestamp.AddSeconds(1) };
        await KafkaTestClient.ProduceEventsAsync(settings.BootstrapServers, settings.InteractionsTopic, [nudge]);
        await Eventually.Until(() => holder.ServingVersion == refit.PublishedVersion, Patience, () => $"scorer still serves {holder.ServingVersion}");
        await KafkaTestClient.ProduceEventsAsync(settings.BootstrapServers, settings.InteractionsTopic, follow);
        var recs = KafkaTestClient.ConsumeValuesUntil(settings.BootstrapServers, settings["Kafka:Topics:Recommendations"], ScorerJsonContext.Default.Recommendation,
            seen => fans.All(u => seen.Any(r => r.UserId == u && r.ModelVersion == refit.PublishedVersion)) && seen.Any(r => r.ModelVersion == original.Version), Patience);
        var latest = fans.Select(u => recs.Last(r => r.UserId == u && r.ModelVersion == refit.PublishedVersion)).ToArray();
        int withNew = latest.Count(r => r.Items.Any(i => entered.Contains(i.ItemId)));
        Assert.True(withNew * 2 >= latest.Length, $"only {withNew} of {latest.Length} users who just took a new item were recommended one");
        Assert.DoesNotContain(recs.Where(r => r.ModelVersion == original.Version), r => r.Items.Any(i => entered.Contains(i.ItemId)));

        // Both versions served, and no batch mixed them.
        Assert.Contains(recs, r => r.ModelVersion == original.Version);
        foreach (var batch in recs.GroupBy(r => r.BatchId))
            Assert.Single(batch.Select(r => r.ModelVersion).Distinct());
    }

    [Fact]
    public void A_refit_that_would_lower_ndcg_against_the_serving_version_beyond_the_bound_is_rejected()
    {
        var world = fixture.World;
        var events = world.Stream;
        var counts = new DecayedCounts(TimeSpan.FromDays(7), events[0].Timestamp);
        foreach (var e in events) counts.Add(e.ItemId, e.Timestamp);
        var live = new PopularitySnapshot(counts.CountsAt(), counts.Latest, events.Count, events.Count);
        var users = events.GroupBy(e => e.UserId)
            .Select(g => new UserSequence(g.Key, g.Select(e => new SequenceEntry(e.ItemId, e.Timestamp)).ToArray())).ToArray();
        var manifest = ModelDirectory.Verify(world.ModelDirectory);
        var drift = DriftDetector.Compare(manifest.Version, live.Counts, ModelDirectory.LoadItems(manifest), ModelDirectory.LoadGroups(world.ModelDirectory, manifest));

        // A fine-tune at a learning rate that wrecks SASRec: everything else in bounds, so only the serving check can stop it.
        var refitter = new ModelRefitter(Options.Create(new RetrainerOptions
        {
            SasRecFineTune = SasRecFineTune.Always, NewItemsShare = 0, SasRecEpochs = 2, SasRecLearningRate = 1.0,
            SaeEpochs = 1, AnalysisPrefixes = 300, MinValidationUsers = 20,
            MaxFvu = 1e6, MaxNdcgDrop = 1, RequireGiniReduction = false, MaxGiniRiseVsServing = 1, MaxNdcgDropVsServing = 0.05,
        }), NullLogger<ModelRefitter>.Instance);
        var result = refitter.Refit(world.ModelDirectory, _scratch.Sub("wrecked"), live, drift, users, new RefitSteering(1.0, null));

        Assert.True(result.Outcome == RefitOutcome.Rejected, $"{result.Outcome}: {string.Join("; ", result.Problems)}; {result.Validation}");
        var problem = Assert.Single(result.Problems);
        Assert.Contains("Retrainer:MaxNdcgDropVsServing", problem);
        Assert.True(result.Validation!.Serving.Ndcg > 0, "the serving model scores nothing: the comparison proves nothing");
        Assert.True(result.Validation.ServingNdcgDrop > 0.05);
        Assert.Equal(result.Validation.Users, result.Validation.Serving.Users);
        Assert.Equal(0, ModelDirectory.Verify(result.Directory!).Metrics["retrain.validation.passed"]);
    }
}
