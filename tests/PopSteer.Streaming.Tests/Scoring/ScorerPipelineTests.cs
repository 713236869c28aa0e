using Microsoft.Extensions.DependencyInjection;
using PopSteer.Core.Scoring;
using PopSteer.Core.Storage;
using PopSteer.Core.Testing;
using PopSteer.Scorer;
using PopSteer.Streaming.Contracts;
using PopSteer.Streaming.Registry;
using PopSteer.Streaming.Sequences;
using PopSteer.Streaming.Tests.Infrastructure;
using StackExchange.Redis;

namespace PopSteer.Streaming.Tests.Scoring;

/// <summary>
/// The Scorer end to end against a real redis-server and the mock Kafka cluster over TCP, with tiny real models from
/// the registry: sequences are written with the real SequenceStore and announced with UserChanged signals, as Ingest does.
/// Runs apart from other classes (<see cref="Retraining.RetrainerHostsCollection"/>): its Prometheus test scrapes the
/// process-wide "PopSteer.Scorer" meters, which a Scorer hosted by a parallel test class would add a second series to.
/// </summary>
[Collection(Retraining.RetrainerHostsCollection.Name)]
public sealed class ScorerPipelineTests(RedisServerFixture redis, KafkaFixture kafka) : ScorerTestBed(redis, kafka)
{
    private string UsersChanged => Settings.UsersChangedTopic;

    private ScorerTestHost Scorer(params (string Key, string? Value)[] overrides) =>
        Scorer(Scratch.Sub("cache-" + Guid.NewGuid().ToString("N")[..6]), overrides);

    /// <summary>Appends events like Ingest (one offset each) and emits one signal per user with the newest event.</summary>
    private async Task IngestAsync(IReadOnlyList<(string User, string Item, DateTimeOffset At)> events)
    {
        var appends = events.Select(e => new SequenceAppend(e.User, e.Item, e.At, Settings.InteractionsTopic, 0, NextOffset())).ToArray();
        await Store.AppendAsync(appends);
        var signals = events.GroupBy(e => e.User).Select(g => g.Last()).Select(e => new UserChanged
        {
            UserId = e.User,
            LastEventId = $"{e.User}-{e.At.ToUnixTimeMilliseconds()}",
            LastItemId = e.Item,
            EventTimestamp = e.At,
            EnqueuedAt = DateTimeOffset.UtcNow,
            AppliedAt = DateTimeOffset.UtcNow,
            Appended = 1,
        });
        await SignalAsync(signals);
    }


    /// <summary>Signals users again without changing their sequences (a new "event time" marks the round).</summary>
    private Task SignalRoundAsync(IEnumerable<string> users, DateTimeOffset marker) =>
        SignalAsync(users.Select(u => new UserChanged
        {
            UserId = u, LastEventId = $"{u}-{marker.ToUnixTimeMilliseconds()}", LastItemId = "-", EventTimestamp = marker, EnqueuedAt = DateTimeOffset.UtcNow,
        }));

    private static bool AllHave(IReadOnlyList<Recommendation> seen, IEnumerable<string> users, DateTimeOffset marker)
    {
        var have = seen.Where(r => r.EventTimestamp == marker).Select(r => r.UserId).ToHashSet();
        return users.All(have.Contains);
    }

    private static string[] Expected(PopSteerModel model, SequenceStore store, string user, double alpha, int neurons, int k = 10)
    {
        var history = BatchScorer.ToHistory(store.ReadAsync(user).GetAwaiter().GetResult(), model.Items, model.MaxLength);
        var ranked = model.Recommend([history], ScoringMethod.PopSteer, model.PlanFor(alpha, neurons), k)[0];
        return ranked.Select(r => model.Items.ToExternal(r.Item)).ToArray();
    }

    /// <summary>A client of the Scorer's consumer group, to read what it committed (it never subscribes).</summary>
    private Confluent.Kafka.IConsumer<byte[], byte[]> GroupReader(string group) =>
        new Confluent.Kafka.ConsumerBuilder<byte[], byte[]>(new Confluent.Kafka.ConsumerConfig
        {
            BootstrapServers = Kafka.BootstrapServers,
            GroupId = group,
            EnableAutoCommit = false,
        }).Build();

    private static IEnumerable<Confluent.Kafka.TopicPartition> Partitions(string topic) =>
        Enumerable.Range(0, 4).Select(p => new Confluent.Kafka.TopicPartition(topic, p));

    /// <summary>Offsets the group committed on the topic, summed over its partitions (the count of signals done).</summary>
    private static long Committed(Confluent.Kafka.IConsumer<byte[], byte[]> reader, string topic) =>
        reader.Committed(Partitions(topic), TimeSpan.FromSeconds(10)).Sum(o => Math.Max(0, o.Offset.Value));

    /// <summary>Messages on the topic, summed over its partitions.</summary>
    private static long Messages(Confluent.Kafka.IConsumer<byte[], byte[]> reader, string topic) =>
        Partitions(topic).Select(p => reader.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(10))).Sum(w => w.High.Value - w.Low.Value);

    [Fact]
    public async Task Every_users_last_recommendation_reflects_their_last_event_and_carries_the_current_version_and_alpha()
    {
        var (dir, info) = await PublishTinyModelAsync("a", seed: 7);
        using var model = PopSteerModel.Load(dir);
        var known = model.Items.ExternalIds;
        var random = new Random(11);
        const int users = 150, events = 3000;
        var log = new List<(string User, string Item, DateTimeOffset At)>(events);
        for (int i = 0; i < events; i++)
        {
            var user = $"user-{random.Next(users)}";
            // One item in ten is unknown to the model (kept in Redis, skipped at scoring).
            var item = random.Next(10) == 0 ? $"new-item-{random.Next(100)}" : known[random.Next(known.Count)];
            log.Add((user, item, T0.AddSeconds(i)));
        }
        // Users whose whole history is unknown to the model get the steered global fallback.
        var coldUsers = Enumerable.Range(0, 3).Select(i => $"cold-{i}").ToArray();
        foreach (var (cold, i) in coldUsers.Select((c, i) => (c, i))) log.Add((cold, $"new-item-{i}", T0.AddSeconds(events + i)));

        await using var scorer = Scorer();
        await scorer.StartAsync();
        await scorer.WaitForModelAsync(Patience);
        foreach (var chunk in log.Chunk(100)) await IngestAsync(chunk);

        var last = log.GroupBy(e => e.User).ToDictionary(g => g.Key, g => g.Last().At);
        var recs = Recommendations(seen =>
        {
            var newest = seen.GroupBy(r => r.UserId).ToDictionary(g => g.Key, g => g.Max(r => r.EventTimestamp));
            return last.All(kv => newest.TryGetValue(kv.Key, out var t) && t == kv.Value);
        });

        var lastRecs = recs.GroupBy(r => r.UserId).ToDictionary(g => g.Key, g => g.Last());
        Assert.Equal(last.Keys.Order(), lastRecs.Keys.Order());
        foreach (var (user, rec) in lastRecs)
        {
            Assert.Equal(last[user], rec.EventTimestamp);
            Assert.Equal(info.Version, rec.ModelVersion);
            Assert.Equal(1.0, rec.Alpha);
            Assert.Equal(TinyModelFactory.SaeWidth, rec.Neurons);
            Assert.Equal(10, rec.Items.Count);
            Assert.NotNull(rec.BatchId);
            if (coldUsers.Contains(user))
            {
                Assert.True(rec.Fallback, $"{user} has no known item and should get the fallback list");
                continue;
            }
            Assert.False(rec.Fallback);
            // The list is exactly what the model ranks for the user's final stored history with this steering.
            Assert.Equal(Expected(model, Store, user, 1.0, TinyModelFactory.SaeWidth), rec.Items.Select(i => i.ItemId).ToArray());
        }
        Assert.True(scorer.Counter("popsteer.scorer.batches") > 1);
        Assert.Equal(0, scorer.Counter("popsteer.scorer.batches_failed"));
    }

    [Fact]
    public async Task Alpha_changed_live_applies_to_later_batches_and_an_invalid_value_leaves_the_last_good_one()
    {
        var (dir, info) = await PublishTinyModelAsync("a", seed: 7);
        using var model = PopSteerModel.Load(dir);
        var random = new Random(5);
        var users = Enumerable.Range(0, 40).Select(i => $"u{i}").ToArray();
        var known = model.Items.ExternalIds;
        var history = users.SelectMany(u => Enumerable.Range(0, 6).Select(j => (u, known[random.Next(known.Count)], T0.AddMinutes(j)))).ToArray();
        await Store.AppendAsync(history.Select(e => new SequenceAppend(e.u, e.Item2, e.Item3, Settings.InteractionsTopic, 0, NextOffset())).ToArray());

        await using var scorer = Scorer(("Steering:Alpha", "0"));
        await scorer.StartAsync();
        await scorer.WaitForModelAsync(Patience);

        async Task<Dictionary<string, Recommendation>> Round(int n)
        {
            var marker = T0.AddDays(n);
            await SignalRoundAsync(users, marker);
            return Recommendations(seen => AllHave(seen, users, marker)).Where(r => r.EventTimestamp == marker)
                .GroupBy(r => r.UserId).ToDictionary(g => g.Key, g => g.Last());
        }

        var unsteered = await Round(1);
        Assert.All(unsteered.Values, r => Assert.Equal(0.0, r.Alpha));

        scorer.Reconfigure(("Steering:Alpha", "20"));
        var steered = await Round(2);
        Assert.All(steered.Values, r => Assert.Equal((20.0, 64), (r.Alpha, r.Neurons)));
        // Same histories, stronger steering: the lists change, and they are the model's lists at alpha 20.
        Assert.Contains(users, u => !unsteered[u].Items.Select(i => i.ItemId).SequenceEqual(steered[u].Items.Select(i => i.ItemId)));
        foreach (var u in users)
            Assert.Equal(Expected(model, Store, u, 20, 64), steered[u].Items.Select(i => i.ItemId).ToArray());

        foreach (var (key, bad, n) in new[] { ("Steering:Alpha", "-1", 3), ("Steering:Alpha", "NaN", 4), ("Steering:Alpha", "not-a-number", 5), ("Steering:Neurons", "65", 6) })
        {
            scorer.Reconfigure((key, bad));
            var after = await Round(n);
            Assert.All(after.Values, r => Assert.Equal((20.0, 64), (r.Alpha, r.Neurons)));
            scorer.Reconfigure(("Steering:Alpha", "20"), ("Steering:Neurons", "64"));
        }
        Assert.True(scorer.Counter("popsteer.scorer.steering_refused") >= 4);

        scorer.Reconfigure(("Steering:Alpha", "3"), ("Steering:Neurons", "16"));
        var partial = await Round(7);
        Assert.All(partial.Values, r => Assert.Equal((3.0, 16), (r.Alpha, r.Neurons)));
        foreach (var u in users)
            Assert.Equal(Expected(model, Store, u, 3, 16), partial[u].Items.Select(i => i.ItemId).ToArray());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)] // the swap waits for the batches being scored beside each other to finish
    public async Task A_model_published_mid_stream_is_swapped_in_between_batches_and_a_tampered_version_is_refused(int concurrentBatches)
    {
        var (_, a) = await PublishTinyModelAsync("a", seed: 7);
        // Batches of at most 8: the stream fills them, and only a full batch starts beside another (Scoring:ConcurrentBatches).
        await using var scorer = Scorer(("Scoring:ConcurrentBatches", concurrentBatches.ToString()), ("Scoring:MaxBatchSize", concurrentBatches > 1 ? "8" : "256"));
        await scorer.StartAsync();
        await scorer.WaitForModelAsync(Patience);
        var holder = scorer.Services.GetRequiredService<ModelHolder>();

        var users = Enumerable.Range(0, 40).Select(i => $"s{i}").ToArray();
        await IngestAsync(users.Select((u, i) => (u, "i1", T0.AddSeconds(i))).ToArray());

        // A stream of signals that keeps going while models change underneath it.
        using var stop = new CancellationTokenSource();
        int round = 0;
        var stream = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await SignalRoundAsync(users, T0.AddDays(1).AddSeconds(++round));
                await Task.Delay(20);
            }
        });

        Recommendations(seen => seen.Count(r => r.ModelVersion == a.Version) >= 200);
        var (_, b) = await PublishTinyModelAsync("b", seed: 8);
        Assert.NotEqual(a.Version, b.Version);
        Recommendations(seen => seen.Any(r => r.ModelVersion == b.Version));

        // A version whose stored weights were damaged: made current quietly (announced on another topic), tampered,
        // then announced for real by a rollback onto it.
        var quiet = new TestSettings(Kafka.BootstrapServers, Redis.ConnectionString);
        foreach (var (k, v) in Settings.Values) quiet.Values[k] = v;
        quiet["Kafka:Topics:Models"] = KafkaFixture.UniqueTopic("quiet-models");
        await using (var quietServices = new ServiceCollection().AddLogging().AddModelRegistry(quiet.Build()).BuildServiceProvider())
        {
            var cDir = Scratch.Sub("c");
            TinyModelFactory.Create(cDir, items: 30, seed: 9);
            var c = await quietServices.GetRequiredService<ModelRegistry>().PublishAsync(cDir);
            using var connection = Redis.Connect();
            var keys = new RegistryKeys(Settings["Redis:KeyPrefix"]);
            var bytes = (byte[])(await connection.GetDatabase().HashGetAsync(keys.Files(c.Version), ModelDirectory.SasRecFile))!;
            bytes[bytes.Length / 2] ^= 0x5A;
            await connection.GetDatabase().HashSetAsync(keys.Files(c.Version), ModelDirectory.SasRecFile, bytes);
            await Registry.RollbackAsync(c.Version);
        }
        var deadline = DateTime.UtcNow + Patience;
        while (scorer.Counter("popsteer.scorer.models_refused") == 0 && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.Equal(1, scorer.Counter("popsteer.scorer.models_refused"));

        await Task.Delay(500);
        await stop.CancelAsync();
        await stream;
        var final = T0.AddDays(2);
        await SignalRoundAsync(users, final);
        var recs = Recommendations(seen => AllHave(seen, users, final));

        // No batch mixes versions, and versions change once, from A to B, in batch order.
        var batches = recs.GroupBy(r => r.BatchId!).Select(g => (Number: long.Parse(g.Key.Split('-')[1]), Versions: g.Select(r => r.ModelVersion).Distinct().ToArray()))
            .OrderBy(x => x.Number).ToArray();
        Assert.All(batches, x => Assert.Single(x.Versions));
        var sequence = batches.Select(x => x.Versions[0]).ToArray();
        int firstB = Array.IndexOf(sequence, b.Version);
        Assert.True(firstB > 0, "some batches ran on A before B was published");
        Assert.All(sequence[..firstB], v => Assert.Equal(a.Version, v));
        Assert.All(sequence[firstB..], v => Assert.Equal(b.Version, v));
        // The refused version never served; B keeps serving; no batch failed during the swap.
        Assert.All(recs.Where(r => r.EventTimestamp == final), r => Assert.Equal(b.Version, r.ModelVersion));
        Assert.Equal(b.Version, holder.ServingVersion);
        Assert.Equal(1, holder.Swaps);
        Assert.Equal(0, scorer.Counter("popsteer.scorer.batches_failed"));
    }

    [Fact]
    public async Task Graceful_shutdown_finishes_the_batch_in_hand_so_published_and_committed_signals_match_exactly()
    {
        await PublishTinyModelAsync("a", seed: 7);
        // One signal per distinct user: every committed signal must have exactly one published recommendation.
        const int signals = 5000;
        var users = Enumerable.Range(0, signals).Select(i => $"g{i}").ToArray();
        await Store.AppendAsync(users.Select(u => new SequenceAppend(u, "i1", T0, Settings.InteractionsTopic, 0, NextOffset())).ToArray());
        await SignalRoundAsync(users, T0);
        var group = $"scorer-{Guid.NewGuid():N}";

        await using (var scorer = Scorer(("Scoring:GroupId", group), ("Scoring:MaxBatchSize", "8")))
        {
            await scorer.StartAsync();
            Recommendations(seen => seen.Count >= 200);
            await scorer.StopAsync(); // mid-stream: thousands of signals are still waiting
        }

        using var reader = GroupReader(group);
        long committed = Committed(reader, UsersChanged);
        long published = Messages(reader, RecommendationsTopic);

        // Usually mid-stream; on an idle machine the Scorer may drain all of them before the stop lands, which must
        // still match exactly.
        Assert.InRange(committed, 200, signals);
        Assert.Equal(committed, published);
    }

    [Theory]
    [InlineData(true, 1, 16)]
    [InlineData(false, 1, 16)]
    [InlineData(true, 2, 16)] // full batches scored beside each other; read-ahead is then not used
    [InlineData(true, 2, 1000)] // the backlog fits one batch that is not full: nothing starts beside it
    public async Task A_backlog_is_scored_from_each_users_stored_history_and_committed_to_the_end_with_or_without_read_ahead(bool readAhead, int concurrentBatches, int maxBatch)
    {
        var (dir, _) = await PublishTinyModelAsync("a", seed: 7);
        using var model = PopSteerModel.Load(dir);
        var known = model.Items.ExternalIds;
        var random = new Random(5);
        var users = Enumerable.Range(0, 300).Select(i => $"backlog-{i}").ToArray();
        // Several events per user, then one signal per user: all of it waits before the Scorer starts.
        var log = Enumerable.Range(0, 4).SelectMany(round => users.Select((u, i) => (u, known[random.Next(known.Count)], T0.AddSeconds(round * users.Length + i)))).ToArray();
        await Store.AppendAsync(log.Select(e => new SequenceAppend(e.Item1, e.Item2, e.Item3, Settings.InteractionsTopic, 0, NextOffset())).ToArray());
        await SignalRoundAsync(users, T0.AddDays(2));
        var group = $"scorer-{Guid.NewGuid():N}";

        // Small batches, so the backlog holds many full ones to take ahead.
        await using var scorer = Scorer(("Scoring:GroupId", group), ("Scoring:MaxBatchSize", maxBatch.ToString()), ("Scoring:ReadAhead", readAhead ? "true" : "false"),
            ("Scoring:ConcurrentBatches", concurrentBatches.ToString()));
        await scorer.StartAsync();
        var recs = Recommendations(seen => AllHave(seen, users, T0.AddDays(2)));

        foreach (var rec in recs.Where(r => r.EventTimestamp == T0.AddDays(2)).GroupBy(r => r.UserId).Select(g => g.Last()))
            Assert.Equal(Expected(model, Store, rec.UserId, 1.0, TinyModelFactory.SaeWidth), rec.Items.Select(i => i.ItemId).ToArray());

        // Every signal is committed once its recommendation is delivered: the group ends at the topic's end.
        using var reader = GroupReader(group);
        long end = Messages(reader, UsersChanged), committed = 0;
        await Eventually.Until(() => (committed = Committed(reader, UsersChanged)) == end, Patience, () => $"committed {committed} of {end} signals");

        Assert.Equal(0, scorer.Counter("popsteer.scorer.batches_failed"));
        if (readAhead && concurrentBatches == 1) Assert.True(scorer.Counter("popsteer.scorer.batches_read_ahead") > 0, "no batch of the backlog was read ahead");
        else Assert.Equal(0, scorer.Counter("popsteer.scorer.batches_read_ahead"));
        if (concurrentBatches == 1 || maxBatch > users.Length) Assert.Equal(0, scorer.Counter("popsteer.scorer.batches_scored_beside"));
        else Assert.True(scorer.Counter("popsteer.scorer.batches_scored_beside") > 0, "no batch of the backlog was scored beside another");
    }

    [Fact]
    public async Task With_batches_scored_beside_each_other_each_users_recommendations_keep_the_order_of_their_signals()
    {
        await PublishTinyModelAsync("a", seed: 7);
        // Few users and many rounds of signals, waiting as a backlog: batches of 4 signals hold the same users again and
        // again, so the two batches scored at once often answer one user twice.
        var users = Enumerable.Range(0, 6).Select(i => $"order-{i}").ToArray();
        await IngestAsync(users.Select((u, i) => (u, $"i{1 + i % 25}", T0.AddSeconds(i))).ToArray());
        var rounds = Enumerable.Range(1, 40).Select(r => T0.AddDays(r)).ToArray();
        foreach (var round in rounds) await SignalRoundAsync(users, round);
        var group = $"scorer-{Guid.NewGuid():N}";

        await using var scorer = Scorer(("Scoring:GroupId", group), ("Scoring:MaxBatchSize", "4"), ("Scoring:ConcurrentBatches", "2"));
        await scorer.StartAsync();
        var recs = Recommendations(seen => AllHave(seen, users, rounds[^1]));

        // One user's recommendations share a partition, so the topic holds them in the order they were published.
        foreach (var user in users)
        {
            var order = recs.Where(r => r.UserId == user && r.EventTimestamp >= rounds[0]).Select(r => r.EventTimestamp).ToArray();
            Assert.True(order.Zip(order.Skip(1)).All(p => p.First <= p.Second), $"{user}'s recommendations were published out of order: {string.Join(", ", order.Select(t => (t - T0)?.Days))}");
        }
        // Batches were numbered as they were started, and a higher number never reaches a user before a lower one.
        foreach (var byUser in recs.Where(r => r.EventTimestamp >= rounds[0]).GroupBy(r => r.UserId))
        {
            var numbers = byUser.Select(r => long.Parse(r.BatchId!.Split('-')[1])).ToArray();
            Assert.True(numbers.Zip(numbers.Skip(1)).All(p => p.First < p.Second), $"{byUser.Key}: batches {string.Join(", ", numbers)}");
        }
        Assert.True(scorer.Counter("popsteer.scorer.batches_scored_beside") > 0, "no batch was scored beside another");
        using var reader = GroupReader(group);
        long end = Messages(reader, UsersChanged), committed = 0;
        await Eventually.Until(() => (committed = Committed(reader, UsersChanged)) == end, Patience, () => $"committed {committed} of {end} signals");
    }

    [Fact]
    public async Task The_prometheus_endpoint_serves_the_scorers_meters_with_the_model_version_and_served_popularity()
    {
        var (_, info) = await PublishTinyModelAsync("a", seed: 7);
        var users = Enumerable.Range(0, 30).Select(i => $"m{i}").ToArray();
        var port = FreePort.Next();
        await using var scorer = Scorer(("Metrics:Port", port.ToString()), ("Steering:Alpha", "0.5"));
        await scorer.StartAsync();
        await IngestAsync(users.Select((u, i) => (u, $"i{1 + i % 20}", T0.AddSeconds(i))).ToArray());
        Recommendations(seen => seen.Count >= users.Length);

        using var http = new HttpClient();
        string text = "";
        var deadline = DateTime.UtcNow + Patience;
        // Observable gauges are sampled at scrape time; the counters appear once the first batch was committed.
        while (!text.Contains("popsteer_scorer_users_scored", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
            text = await http.GetStringAsync($"http://localhost:{port}/metrics");
        }

        var lines = text.Split('\n');
        File.WriteAllText(Path.Combine(Path.GetTempPath(), "popsteer-scorer-metrics-sample.txt"), text);
        double Value(string name)
        {
            var line = lines.Single(l => l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal));
            var rest = line.Contains('}') ? line[(line.LastIndexOf('}') + 1)..] : line[name.Length..];
            return double.Parse(rest.Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        }
        Assert.Equal(users.Length, Value("popsteer_scorer_users_scored_total"));
        Assert.Equal(0.5, Value("popsteer_scorer_alpha"));
        Assert.Contains(lines, l => l.StartsWith("popsteer_scorer_model{", StringComparison.Ordinal) && l.Contains($"version=\"{info.Version}\"", StringComparison.Ordinal));
        var gini = Value("popsteer_scorer_served_gini");
        Assert.InRange(gini, 0.01, 1.0);
        Assert.InRange(Value("popsteer_scorer_served_tail_share"), 0.0, 1.0);
        Assert.Contains(lines, l => l.StartsWith("popsteer_scorer_batch_duration_milliseconds_bucket", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)] // a full batch's read that fails runs on a pool thread (batches of 8; a smaller one's on the loop)
    public async Task Signals_arriving_while_redis_is_down_are_not_committed_and_are_all_scored_once_it_is_back(int concurrentBatches)
    {
        await PublishTinyModelAsync("a", seed: 7);
        var users = Enumerable.Range(0, 50).Select(i => $"r{i}").ToArray();
        await IngestAsync(users.Select((u, i) => (u, $"i{1 + i % 25}", T0.AddSeconds(i))).ToArray());
        await using var scorer = Scorer(("Scoring:ConcurrentBatches", concurrentBatches.ToString()), ("Scoring:MaxBatchSize", concurrentBatches > 1 ? "8" : "256"));
        await scorer.StartAsync();
        await SignalRoundAsync(users, T0.AddDays(1));
        Recommendations(seen => AllHave(seen, users, T0.AddDays(1)));

        Redis.Stop();
        try
        {
            var during = T0.AddDays(2);
            await SignalRoundAsync(users, during);
            var deadline = DateTime.UtcNow + Patience;
            while (scorer.Counter("popsteer.scorer.batches_failed") == 0 && DateTime.UtcNow < deadline) await Task.Delay(100);
            Assert.True(scorer.Counter("popsteer.scorer.batches_failed") > 0, "a batch should fail while Redis is down");
            Assert.DoesNotContain(Recommendations(seen => AllHave(seen, users, T0.AddDays(1))), r => r.EventTimestamp == during);
        }
        finally
        {
            Redis.Start(); // same port, empty (no persistence): the Scorer reconnects by itself
        }

        // The rewound batch is consumed again: every signal sent during the outage gets its recommendation.
        var recs = Recommendations(seen => AllHave(seen, users, T0.AddDays(2)));
        Assert.All(users, u => Assert.Contains(recs, r => r.UserId == u && r.EventTimestamp == T0.AddDays(2)));
    }
}
