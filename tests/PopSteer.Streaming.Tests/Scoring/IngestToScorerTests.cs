using Microsoft.Extensions.DependencyInjection;
using PopSteer.Core.Scoring;
using PopSteer.Core.Testing;
using PopSteer.Ingest;
using PopSteer.Scorer;
using PopSteer.Streaming.Contracts;
using PopSteer.Streaming.Registry;
using PopSteer.Streaming.Sequences;
using PopSteer.Streaming.Tests.Infrastructure;

namespace PopSteer.Streaming.Tests.Scoring;

/// <summary>
/// The whole pipeline in one process, as the demo composes it (AddIngest + AddScorer): interaction events on Kafka ->
/// Ingest -> Redis -> signals -> Scorer -> recommendations, against a real redis-server and the mock cluster.
/// </summary>
public sealed class IngestToScorerTests(RedisServerFixture redis, KafkaFixture kafka)
    : IClassFixture<RedisServerFixture>, IClassFixture<KafkaFixture>, IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private readonly ScratchDirectory _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task Thousands_of_events_end_as_each_users_recommendation_for_their_last_event_with_the_current_model_and_alpha()
    {
        var settings = new TestSettings(kafka.BootstrapServers, redis.ConnectionString);
        var modelDir = _scratch.Sub("model");
        TinyModelFactory.Create(modelDir, items: 30, seed: 7);
        ModelVersionInfo published;
        await using (var registryServices = new ServiceCollection().AddLogging().AddPopSteerStreamingForTests(settings).BuildServiceProvider())
            published = await registryServices.GetRequiredService<ModelRegistry>().PublishAsync(modelDir);
        using var model = PopSteerModel.Load(modelDir);

        var random = new Random(3);
        var known = model.Items.ExternalIds;
        var start = new DateTimeOffset(2025, 3, 1, 0, 0, 0, TimeSpan.Zero);
        var events = Enumerable.Range(0, 3000).Select(i => new InteractionEvent
        {
            EventId = $"e{i}",
            UserId = $"user-{random.Next(120)}",
            ItemId = random.Next(12) == 0 ? $"unseen-{random.Next(50)}" : known[random.Next(known.Count)],
            Timestamp = start.AddSeconds(i),
        }).ToList();

        await using var pipeline = new ScorerTestHost(settings, _scratch.Sub("cache"),
            new Dictionary<string, string?> { ["Steering:Alpha"] = "2.5" },
            (services, configuration) => services.AddIngest(configuration));
        await pipeline.StartAsync();
        await pipeline.WaitForModelAsync(Patience);
        // Produced while both workers run: the stream is live, not a backlog.
        foreach (var chunk in events.Chunk(500))
            await KafkaTestClient.ProduceEventsAsync(settings.BootstrapServers, settings.InteractionsTopic, chunk);

        var last = events.GroupBy(e => e.UserId).ToDictionary(g => g.Key, g => g.Last().Timestamp);
        var recs = ReadUntil(settings, seen =>
        {
            var newest = seen.GroupBy(r => r.UserId).ToDictionary(g => g.Key, g => g.Max(r => r.EventTimestamp));
            return last.All(kv => newest.TryGetValue(kv.Key, out var t) && t == kv.Value);
        });

        var store = pipeline.Services.GetRequiredService<SequenceStore>();
        var plan = model.PlanFor(2.5, TinyModelFactory.SaeWidth);
        foreach (var (user, rec) in recs.GroupBy(r => r.UserId).ToDictionary(g => g.Key, g => g.Last()))
        {
            Assert.Equal(last[user], rec.EventTimestamp);
            Assert.Equal(published.Version, rec.ModelVersion);
            Assert.Equal(2.5, rec.Alpha);
            Assert.NotNull(rec.EnqueuedAt);
            Assert.True(rec.GeneratedAt >= rec.EnqueuedAt);
            var stored = await store.ReadAsync(user);
            Assert.Equal(events.Where(e => e.UserId == user).Select(e => e.ItemId), stored.ItemIds);
            var history = BatchScorer.ToHistory(stored, model.Items, model.MaxLength);
            var expected = model.Recommend([history], ScoringMethod.PopSteer, plan, 10)[0].Select(r => model.Items.ToExternal(r.Item));
            Assert.Equal(expected, rec.Items.Select(i => i.ItemId));
        }
        Assert.Equal(last.Count, recs.Select(r => r.UserId).Distinct().Count());
        Assert.Equal(0, pipeline.Counter("popsteer.scorer.batches_failed"));
    }

    private static List<Recommendation> ReadUntil(TestSettings settings, Func<IReadOnlyList<Recommendation>, bool> done) =>
        KafkaTestClient.ConsumeValuesOnceCreated(settings.BootstrapServers, settings["Kafka:Topics:Recommendations"],
            ScorerJsonContext.Default.Recommendation, done, Patience);
}
