using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using PopSteer.Core.Storage;
using PopSteer.Core.Testing;
using PopSteer.Scorer;
using PopSteer.Streaming.Contracts;
using PopSteer.Streaming.Registry;
using PopSteer.Streaming.Sequences;
using PopSteer.Streaming.Tests.Infrastructure;

namespace PopSteer.Streaming.Tests.Scoring;

/// <summary>
/// What used to stop or silently change a Scorer: a poisoned user, an oversize signal, a steering value wider than
/// the model, a refused `current` at start-up, duplicates downstream cannot remove, and registry and cache growth.
/// Real redis-server, the mock Kafka cluster over TCP, tiny real models, the real AddScorer host.
/// </summary>
public sealed class ScorerHardeningTests(RedisServerFixture redis, KafkaFixture kafka) : ScorerTestBed(redis, kafka)
{
    private async Task<ModelVersionInfo> PublishAsync(string name, int seed) => (await PublishTinyModelAsync(name, seed)).Info;

    /// <summary>Appends one event per user like Ingest, then signals each user once, marked with <paramref name="at"/>.</summary>
    private async Task IngestAsync(IEnumerable<string> users, DateTimeOffset at)
    {
        var list = users.ToArray();
        await Store.AppendAsync(list.Select(u => new SequenceAppend(u, "i1", at, Settings.InteractionsTopic, 0, NextOffset())).ToArray());
        await SignalAsync(list, at);
    }

    private Task SignalAsync(IEnumerable<string> users, DateTimeOffset at) =>
        SignalAsync(users.Select(u => new UserChanged
        {
            UserId = u, LastEventId = $"{u}-{at.ToUnixTimeMilliseconds()}", LastItemId = "i1", EventTimestamp = at, EnqueuedAt = DateTimeOffset.UtcNow,
        }));

    private List<DeadLetter> DeadLetters(Func<IReadOnlyList<DeadLetter>, bool> done) =>
        ReadUntil(Settings.DeadLetterTopic, StreamingJsonContext.Default.DeadLetter, done);

    private static bool AllHave(IReadOnlyList<Recommendation> seen, IEnumerable<string> users, DateTimeOffset at)
    {
        var have = seen.Where(r => r.EventTimestamp == at).Select(r => r.UserId).ToHashSet();
        return users.All(have.Contains);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)] // a full batch's failing attempt runs on a pool thread; a smaller batch's, and the user-by-user one, on the loop's
    public async Task A_user_whose_stored_sequence_is_malformed_is_dead_lettered_after_the_bounded_attempts_and_everyone_else_is_served(int concurrentBatches)
    {
        await PublishAsync("a", seed: 7);
        await using var scorer = Scorer(Scratch.Sub("cache"), ("Scoring:MaxBatchAttempts", "2"), ("Scoring:MaxBatchWait", "00:00:00.200"),
            ("Scoring:ConcurrentBatches", concurrentBatches.ToString()), ("Scoring:MaxBatchSize", concurrentBatches > 1 ? "8" : "256"));
        await scorer.StartAsync();
        await scorer.WaitForModelAsync(Patience);

        var good = Enumerable.Range(0, 20).Select(i => $"g{i}").ToArray();
        await Store.AppendAsync(good.Select(u => new SequenceAppend(u, "i1", T0, Settings.InteractionsTopic, 0, NextOffset())).ToArray());
        // An entry no Ingest would write (no '<ms>:' prefix): reading this user's sequence throws, every time.
        using (var connection = Redis.Connect())
            await connection.GetDatabase().ListRightPushAsync(Store.SequenceKey("poison"), "not-an-entry");
        await SignalAsync(good.Take(10).Append("poison").Concat(good.Skip(10)), T0);

        var recs = Recommendations(seen => AllHave(seen, good, T0));
        Assert.DoesNotContain(recs, r => r.UserId == "poison");
        var letter = Assert.Single(DeadLetters(seen => seen.Count >= 1));
        Assert.Equal(InvalidEventReason.ScoringFailed, letter.Code);
        Assert.Equal("scorer", letter.Source);
        Assert.Contains("'poison'", letter.Reason);
        Assert.Contains("not-an-entry", letter.Reason);
        Assert.Equal("poison", JsonSerializer.Deserialize(letter.Original, StreamingJsonContext.Default.UserChanged)!.UserId);
        Assert.True(scorer.Counter("popsteer.scorer.batches_isolated") >= 1);
        Assert.Equal(1, scorer.Counter("popsteer.scorer.users_dead_lettered"));

        // The partition moved on: later signals are served and the poisoned one is not retried.
        var later = T0.AddHours(1);
        await SignalAsync(good, later);
        Recommendations(seen => AllHave(seen, good, later));
        Assert.Equal(1, scorer.Counter("popsteer.scorer.users_dead_lettered"));
    }

    [Fact]
    public async Task An_oversize_signal_is_dead_lettered_truncated_with_its_length_and_hash_and_the_stream_goes_on()
    {
        await PublishAsync("a", seed: 7);
        await using var scorer = Scorer(Scratch.Sub("cache"));
        await scorer.StartAsync();
        await scorer.WaitForModelAsync(Patience);

        // ~880 KB is a legal Kafka message, but base64-embedded in a dead letter it would outgrow the 1 MB limit.
        var huge = new byte[880_000];
        new Random(5).NextBytes(huge);
        await KafkaTestClient.ProduceAsync(Kafka.BootstrapServers, Settings.UsersChangedTopic, [(Encoding.UTF8.GetBytes("junk"), huge)]);
        var users = Enumerable.Range(0, 10).Select(i => $"u{i}").ToArray();
        await IngestAsync(users, T0);

        Recommendations(seen => AllHave(seen, users, T0));
        var letter = Assert.Single(DeadLetters(seen => seen.Count >= 1));
        Assert.Equal(64 * 1024, letter.Original.Length);
        Assert.Equal(huge[..(64 * 1024)], letter.Original);
        Assert.Contains("880,000", letter.Reason);
        Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(huge)), letter.Reason);
        Assert.Equal(0, scorer.Counter("popsteer.scorer.batches_failed"));
    }

    [Fact]
    public async Task Steering_wider_than_the_models_sae_is_refused_at_start_up_and_served_on_all_its_neurons_until_fixed()
    {
        await PublishAsync("a", seed: 7);
        // deploy/k8s/config.yaml's N = 4096 against the tiny model's 64-neuron SAE.
        await using var scorer = Scorer(Scratch.Sub("cache"), ("Steering:Neurons", "4096"));
        await scorer.StartAsync();
        await scorer.WaitForModelAsync(Patience);

        var users = Enumerable.Range(0, 10).Select(i => $"n{i}").ToArray();
        await IngestAsync(users, T0);
        var recs = Recommendations(seen => AllHave(seen, users, T0));
        Assert.All(recs, r => Assert.Equal(TinyModelFactory.SaeWidth, r.Neurons));
        Assert.All(recs, r => Assert.Equal(1.0, r.Alpha));
        Assert.True(scorer.Counter("popsteer.scorer.steering_refused") >= 1);
        Assert.Equal(0, scorer.Counter("popsteer.scorer.batches_failed"));

        scorer.Reconfigure(("Steering:Neurons", "8"));
        var later = T0.AddHours(1);
        await SignalAsync(users, later);
        recs = Recommendations(seen => AllHave(seen, users, later));
        Assert.All(recs.Where(r => r.EventTimestamp == later), r => Assert.Equal(8, r.Neurons));
    }

    [Fact]
    public async Task Every_recommendation_has_an_idempotency_key_from_user_trigger_and_version_that_a_replay_reproduces()
    {
        var model = await PublishAsync("a", seed: 7);
        var users = Enumerable.Range(0, 30).Select(i => $"k{i}").ToArray();
        await IngestAsync(users, T0);

        List<Recommendation> first;
        await using (var a = Scorer(Scratch.Sub("cache-a")))
        {
            await a.StartAsync();
            first = Recommendations(seen => AllHave(seen, users, T0));
        }
        // A second consumer group re-scores the same signals (a replay, or a group reset): new batches, same keys.
        await using (var b = Scorer(Scratch.Sub("cache-b")))
        {
            await b.StartAsync();
            static string Instance(Recommendation r) => r.BatchId!.Split('-')[0];
            var firstInstances = first.Select(Instance).ToHashSet();
            var all = Recommendations(seen => seen.Count(r => !firstInstances.Contains(Instance(r))) >= users.Length);
            var second = all.Where(r => !firstInstances.Contains(Instance(r))).ToList();
            Assert.Equal(first.ToDictionary(r => r.UserId, r => r.IdempotencyKey), second.ToDictionary(r => r.UserId, r => r.IdempotencyKey));
        }

        var signals = KafkaTestClient.ConsumeUntil(Kafka.BootstrapServers, Settings.UsersChangedTopic, seen => seen.Count >= users.Length, Patience);
        foreach (var s in signals)
        {
            var user = Encoding.UTF8.GetString(s.Message.Key!);
            var expected = Recommendation.IdempotencyKeyFor(user, s.Topic, s.Partition.Value, s.Offset.Value, model.Version);
            Assert.Equal(expected, first.Single(r => r.UserId == user).IdempotencyKey);
        }
        Assert.Equal(users.Length, first.Select(r => r.IdempotencyKey).Distinct().Count());
    }

    [Fact]
    public async Task A_new_scorer_falls_back_to_the_newest_version_that_verifies_when_current_is_refused_and_prunes_its_cache()
    {
        var a = await PublishAsync("a", seed: 7);
        var b = await PublishAsync("b", seed: 8);
        using (var connection = Redis.Connect())
        {
            var bytes = (byte[])(await connection.GetDatabase().HashGetAsync(Keys.Files(b.Version), ModelDirectory.SasRecFile))!;
            bytes[bytes.Length / 2] ^= 0x5A;
            await connection.GetDatabase().HashSetAsync(Keys.Files(b.Version), ModelDirectory.SasRecFile, bytes);
        }

        var cache = Scratch.Sub("cache");
        await using var scorer = Scorer(cache, ("Scoring:ModelCacheVersions", "1"));
        await scorer.StartAsync();
        await scorer.WaitForModelAsync(Patience);
        var users = Enumerable.Range(0, 10).Select(i => $"f{i}").ToArray();
        await IngestAsync(users, T0);
        var recs = Recommendations(seen => AllHave(seen, users, T0));
        Assert.All(recs, r => Assert.Equal(a.Version, r.ModelVersion));
        Assert.Equal(1, scorer.Counter("popsteer.scorer.model_fallbacks"));
        Assert.True(scorer.Counter("popsteer.scorer.models_refused") >= 1);
        Assert.Equal(new[] { a.Version }, Cached(cache));

        // A good publish replaces the fallback as usual; the cache keeps the new version and the one it replaced.
        // Swaps happen at a batch boundary, so signals keep flowing until each new version serves.
        var holder = scorer.Services.GetRequiredService<ModelHolder>();
        var c = await PublishAsync("c", seed: 9);
        await Eventually.Until(() => holder.ServingVersion == c.Version || TrySignal(users), Patience, () => "C never served");
        var d = await PublishAsync("d", seed: 10);
        await Eventually.Until(() => holder.ServingVersion == d.Version || TrySignal(users), Patience, () => "D never served");
        await Eventually.Until(() => Directory.GetDirectories(cache).Length == 2, Patience, () => string.Join(", ", Directory.GetDirectories(cache)));
        Assert.Equal(new[] { c.Version, d.Version }.Order(StringComparer.Ordinal), Cached(cache));
    }

    private static string[] Cached(string cache) =>
        Directory.GetDirectories(cache).Select(d => new DirectoryInfo(d).Name).Order(StringComparer.Ordinal).ToArray();

    // Keeps signals flowing so the loop reaches a batch boundary (where swaps happen); never true by itself.
    private bool TrySignal(string[] users)
    {
        SignalAsync(users.Take(1), T0.AddDays(1)).GetAwaiter().GetResult();
        return false;
    }

    [Fact]
    public async Task The_registry_keeps_the_newest_versions_and_current_and_deletes_the_rest()
    {
        using var services = new ServiceCollection().AddLogging()
            .AddModelRegistry(new ConfigurationBuilder()
                .AddInMemoryCollection(Settings.Values).AddInMemoryCollection([new("Registry:RetainVersions", "2")]).Build())
            .BuildServiceProvider();
        var registry = services.GetRequiredService<ModelRegistry>();
        var published = new List<ModelVersionInfo>();
        foreach (var seed in new[] { 7, 8, 9, 10 })
        {
            var dir = Scratch.Sub($"m{seed}");
            TinyModelFactory.Create(dir, items: 30, seed: seed);
            published.Add(await registry.PublishAsync(dir));
            await Task.Delay(5); // distinct publish times
        }

        Assert.Equal(published.Skip(2).Select(v => v.Version), (await registry.ListAsync()).Select(v => v.Version));
        using var connection = Redis.Connect();
        foreach (var gone in published.Take(2))
        {
            Assert.False(await connection.GetDatabase().KeyExistsAsync(Keys.Files(gone.Version)));
            Assert.False(await connection.GetDatabase().KeyExistsAsync(Keys.Meta(gone.Version)));
        }

        // Rolled back onto the older kept version, a prune to one keeps the newest AND current.
        await registry.RollbackAsync(published[2].Version);
        Assert.Empty(await registry.PruneAsync(1));
        Assert.Equal(published.Skip(2).Select(v => v.Version), (await registry.ListAsync()).Select(v => v.Version));
        await registry.RollbackAsync(published[3].Version);
        Assert.Equal(new[] { published[2].Version }, await registry.PruneAsync(1));
        Assert.Equal(new[] { published[3].Version }, (await registry.ListAsync()).Select(v => v.Version));
    }
}
