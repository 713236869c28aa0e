using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PopSteer.Core.Data;
using PopSteer.Core.Scoring;
using PopSteer.Core.Storage;
using PopSteer.Core.Training;
using PopSteer.Embedded;
using PopSteer.Ingest;
using PopSteer.Retrainer;
using PopSteer.Scorer;
using PopSteer.Streaming.Contracts;
using PopSteer.Streaming.Kafka;
using PopSteer.Streaming.Registry;
using PopSteer.Streaming.Replay;
using PopSteer.Streaming.Sequences;
using Spectre.Console;

namespace PopSteer.Cli.Demo;

/// <summary>
/// `popsteer demo`: the whole product on one machine. Starts its own Redis and the embedded Kafka broker, fits a model
/// (or reuses a cached one), publishes it, hosts the real Ingest, Scorer and Retrainer workers in this process,
/// replays the held-out part of the data as a live stream whose popularity drifts at a known point, turns alpha on
/// schedule, shows drift, refits and swaps, what is being served beside an unsteered and a stale-model shadow, and
/// stops everything it started.
/// </summary>
internal sealed class DemoRunner(DemoOptions options)
{
    private const string BootstrapTopic = "popsteer.bootstrap";

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        options.Validate();
        Directory.CreateDirectory(options.WorkDirectory);

        Say("[1/6] Redis");
        RedisInstaller.EnsureInstalled(Say);
        using var redis = LocalRedisServer.Start();
        Say($"      redis-server on 127.0.0.1:{redis.Port} (private, no persistence)");

        Say("[2/6] Kafka");
        using var broker = new EmbeddedKafkaBroker(options.Brokers);
        Say($"      embedded broker (librdkafka mock cluster, {options.Brokers} broker{(options.Brokers == 1 ? "" : "s")}) at {broker.BootstrapServers}");

        Say("[3/6] Data and model");
        var (trainRows, liveRows) = LoadAndSplit();
        string modelDirectory = options.ModelDirectory ?? FitOrReuse(trainRows, cancellationToken);
        var shadowModel = PopSteerModel.Load(modelDirectory);
        double initialAlpha = options.Schedule.AlphaAt(TimeSpan.Zero, shadowModel.Manifest.Steering?.Alpha ?? 1.5);
        var (events, plan) = LiveStream(trainRows, liveRows);

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        var settings = new Dictionary<string, string?>
        {
            ["Kafka:BootstrapServers"] = broker.BootstrapServers,
            ["Redis:Configuration"] = redis.ConnectionString,
            ["Steering:Alpha"] = initialAlpha.ToString(CultureInfo.InvariantCulture),
            ["Scoring:ModelCacheDirectory"] = Path.Combine(options.WorkDirectory, "scorer-cache"),
            ["Scoring:ModelPollInterval"] = "00:00:05",
            // Plain librdkafka keys, as any deployment would set them: the embedded broker answers an empty fetch only
            // after the full fetch.wait.max.ms (500 ms by default), which would dominate every hop's latency here.
            ["Kafka:Consumer:fetch.wait.max.ms"] = "5",
            ["Kafka:Consumer:session.timeout.ms"] = "6000",
        };
        foreach (var (key, value) in DemoRetrainerSettings.For(options)) settings[key] = value;
        foreach (var (key, value) in options.Settings) settings[key] = value;
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Error);
        builder.Services.AddIngest(builder.Configuration);
        builder.Services.AddScorer(builder.Configuration);
        builder.Services.AddRetrainer(builder.Configuration);
        using var host = builder.Build();
        IConfigurationRoot configuration = builder.Configuration;

        // Before any client touches them: auto-creation would give the mock's default of 4 partitions.
        broker.TryCreateTopics(EmbeddedKafkaBroker.ProductionTopics(host.Services.GetRequiredService<KafkaClientFactory>().Topics), w => Say($"      warning: {w}"));
        var registry = host.Services.GetRequiredService<ModelRegistry>();
        var published = await registry.PublishAsync(modelDirectory, cancellationToken);
        Say($"[4/6] Published model {published.Version} to the registry (Redis) and announced it on Kafka");

        var sequences = host.Services.GetRequiredService<SequenceStore>();
        int seededUsers = await SeedHistoriesAsync(sequences, trainRows, cancellationToken);
        Say($"[5/6] Seeded {seededUsers:N0} users' histories ({trainRows.Count:N0} earlier interactions) into Redis");

        await host.StartAsync(cancellationToken);
        // Stream only once the Scorer serves: otherwise the first phase measures model loading, not the pipeline.
        await host.Services.GetRequiredService<ModelHolder>().WaitForFirstModelAsync(cancellationToken);
        var kafka = host.Services.GetRequiredService<KafkaClientFactory>();
        Say($"[6/6] Streaming {events.Count:N0} held-out events at {(options.Rate == 0 ? "full speed" : $"{options.Rate:0} events/s")}; alpha schedule {options.Schedule}" +
            (plan is null ? "" : $"; popularity drifts at event {plan.DriftAt:N0} ({plan.Fading.Count} head items fade into {plan.NewItems.Count} new items, {plan.Rising.Count} tail items rise)"));

        var reference = new DriftReference(shadowModel.Items, shadowModel.Groups, events, plan);
        var story = new RefitStory(host.Services.GetRequiredService<RetrainerWorker>(), host.Services.GetRequiredService<ModelHolder>(), published.Version, Say, options.Interactive);
        // The embedded broker keeps only what some group has not yet committed, as a real broker's retention would
        // bound its log: the mock's fetch walks the whole log (EmbeddedBrokerRetention), so an untrimmed paced run slows
        // down with every second it runs.
        string viewGroup = $"popsteer-demo-view-{Guid.NewGuid():N}";
        string Group<T>(Func<T, string> of) where T : class => of(host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<T>>().Value);
        await using var retention = options.TrimBroker
            ? new EmbeddedBrokerRetention(broker, [
                .. ServiceConsumerGroups.Of(kafka.Topics, Group<IngestOptions>(o => o.GroupId), Group<RetrainerOptions>(o => o.GroupId), Group<ScoringOptions>(o => o.GroupId)),
                (kafka.Topics.Recommendations, [viewGroup]),
            ], TimeSpan.FromSeconds(1))
            : null;
        StreamOutcome outcome;
        try
        {
            outcome = await StreamAsync(kafka, sequences, shadowModel, configuration, events, reference, story, initialAlpha, viewGroup, cancellationToken);
        }
        finally
        {
            using (var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
                await host.StopAsync(stopping.Token);
            story.Dispose();
            shadowModel.Dispose();
        }
        PrintSummary(outcome, published.Version, events.Count, story, retention is null ? null
            : $"Embedded broker: {retention.RecordsDeleted:N0} records trimmed behind the committed offsets{(retention.LastError is { } error ? $" (last pass failed: {error})" : "")}");
        return 0;
    }

    /// <summary>The held-out rows as live events, drifted at <see cref="DemoOptions.DriftAt"/>, stamped on the replay's own clock.</summary>
    private (IReadOnlyList<InteractionEvent> Events, DriftPlan? Plan) LiveStream(IReadOnlyList<Interaction> trainRows, IReadOnlyList<Interaction> liveRows)
    {
        DriftPlan? plan = null;
        if (options.DriftAt is { } at)
            (liveRows, plan) = DriftScenario.Apply(trainRows, liveRows, (int)(liveRows.Count * at), new DriftScenarioOptions { Seed = options.Seed });
        // Event time = when the replay sends it: the Retrainer's decay and every event-time bound see a live stream,
        // not the data set's years. Unique per event, so a recommendation is matched to the event it answers.
        var start = DateTimeOffset.UtcNow;
        double spacingMs = options.Rate > 0 ? Math.Max(1, 1000 / options.Rate) : 1;
        var events = InteractionReplay.ToEvents(liveRows, "demo-", keepOrder: true)
            .Select((e, i) => e with { Timestamp = start.AddMilliseconds(Math.Round(i * spacingMs)) }).ToArray();
        return (events, plan);
    }

    /// <param name="ServedIn">From the first replayed event to the last recommendation read: the pipeline's busy time.</param>
    private sealed record StreamOutcome(
        PipelineStatistics Statistics, IReadOnlyList<PhaseStatistics> Phases, TimeSpan Elapsed, TimeSpan ServedIn, long Fallbacks, bool CompletedReplay,
        (IReadOnlyList<(string Group, double Seconds, int Threads)> Groups, double WallSeconds)? Cpu, GcActivity.Summary Gc, string Breakdown);

    /// <summary>
    /// The demo view's consumer: it only reads, so it commits what it has read twice a second, and the broker's retention
    /// trims the recommendations behind it. The factory turns the offset store off for the services (they store and
    /// commit only after their work is durable); auto-commit alone would then commit nothing, the recommendations' log
    /// would never be trimmed, and the embedded broker's fetches would slow down for the whole run (docs/speed.md).
    /// </summary>
    internal static IConsumer<byte[], byte[]> CreateViewConsumer(KafkaClientFactory kafka, string group) =>
        kafka.CreateConsumer(group, c =>
        {
            c.AutoOffsetReset = AutoOffsetReset.Earliest;
            c.EnableAutoCommit = true;
            c.EnableAutoOffsetStore = true;
            c.AutoCommitIntervalMs = 500;
        });

    private async Task<StreamOutcome> StreamAsync(KafkaClientFactory kafka, SequenceStore sequences, PopSteerModel model,
        IConfigurationRoot configuration, IReadOnlyList<InteractionEvent> events, DriftReference reference, RefitStory story,
        double initialAlpha, string viewGroup, CancellationToken cancellationToken)
    {
        var statistics = new PipelineStatistics();
        using var breakdown = new LatencyBreakdown();
        var phases = new ConcurrentDictionary<(string Phase, double Alpha), PhaseStatistics>();
        var order = new ConcurrentDictionary<(string Phase, double Alpha), long>();
        var liveServed = PhaseStatistics.Window(reference.Before, 2000);
        var liveSample = PhaseStatistics.Window(reference.Before, 2000);
        var liveShadow = PhaseStatistics.Window(reference.Before, 2000);
        var liveStale = PhaseStatistics.Window(reference.Before, 2000);
        int driftSeen = 0;
        var shadow = new ShadowScorer(sequences, reference, options.ShadowSampleEvery);
        shadow.AddModel(model);
        story.Attach(shadow, model);
        long fallbacks = 0;
        long lastRecommendationTicks = Stopwatch.GetTimestamp();
        var warmedUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var topics = kafka.Topics;

        // The view's own consumer: one client, its own thread, as every consumer loop here.
        var viewer = Task.Factory.StartNew(() =>
        {
            Thread.CurrentThread.Name = "ps-demo-view";
            using var consumer = CreateViewConsumer(kafka, viewGroup);
            consumer.Subscribe(topics.Recommendations);
            while (!stop.IsCancellationRequested)
            {
                ConsumeResult<byte[], byte[]>? message;
                try { message = consumer.Consume(TimeSpan.FromMilliseconds(100)); }
                catch (ConsumeException) { continue; }
                if (message?.Message?.Value is null) continue;
                var recommendation = ScorerJsonContext.DeserializeRecommendation(message.Message.Value);
                if (recommendation.UserId == WarmUpUser)
                {
                    warmedUp.TrySetResult();
                    continue;
                }
                var now = DateTimeOffset.UtcNow;
                var latency = now - (recommendation.EnqueuedAt ?? recommendation.EventTimestamp ?? recommendation.GeneratedAt);
                var list = reference.ToReference(recommendation.Items.Select(i => i.ItemId));
                var answered = reference.EventOf(recommendation.UserId, recommendation.EventTimestamp);
                bool drifted = answered is { } a && a.Index >= reference.DriftAt;
                if (drifted && Interlocked.Exchange(ref driftSeen, 1) == 0)
                {
                    // From the drift on, "tail" means what users now make unpopular.
                    foreach (var w in new[] { liveServed, liveSample, liveShadow, liveStale }) w.Reset(reference.After);
                }
                var key = (story.PhaseOf(recommendation.ModelVersion, drifted, reference.Plan is not null), recommendation.Alpha);
                var phase = phases.GetOrAdd(key, k => new PhaseStatistics(k.Phase, k.Alpha, drifted ? reference.After : reference.Before));
                order.TryAdd(key, Stopwatch.GetTimestamp());
                statistics.RecommendationReceived(latency);
                if (recommendation.EnqueuedAt is { } enqueued) breakdown.Recommendation(recommendation.GeneratedAt - enqueued, now - recommendation.GeneratedAt);
                phase.Add(list, latency, reference.Ndcg(list, answered?.Next));
                liveServed.Add(list);
                if (recommendation.Fallback) Interlocked.Increment(ref fallbacks);
                else if (shadow.Samples(recommendation.UserId))
                    shadow.Enqueue(new ShadowScorer.Pending(recommendation.UserId, list, recommendation.ModelVersion, recommendation.Alpha, recommendation.Neurons,
                        recommendation.EventTimestamp, answered?.Next, phase, liveSample, liveShadow, liveStale));
                Interlocked.Exchange(ref lastRecommendationTicks, Stopwatch.GetTimestamp());
            }
            consumer.Close();
        }, stop.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        var shadowing = shadow.RunAsync(stop.Token);

        // One event through the whole path (consumer groups joined, model loaded, first batch run) before the clock
        // starts: the summary should measure the pipeline, not its start-up.
        await WarmUpAsync(kafka, topics.Interactions, warmedUp.Task, stop.Token);

        var cpu = ThreadCpu.Start();
        using var gc = new GcActivity();
        var clock = Stopwatch.StartNew();
        story.Start(clock);
        long streamStartTicks = Stopwatch.GetTimestamp();
        var replay = new InteractionReplay(kafka).RunAsync(events, topics.Interactions, options.Rate,
            r => statistics.EventsProduced(r.Sent), stop.Token);

        using var lag = new ConsumerLag(kafka);
        // Taken when the stream is first drained, not when the demo stops: a flood is served seconds before the 3 quiet
        // seconds that end the run, and that idle tail would dilute the cores and the GC share of the time.
        (IReadOnlyList<(string Group, double Seconds, int Threads)> Groups, double WallSeconds)? cpuUsed = null;
        GcActivity.Summary? gcUsed = null;
        double alpha = initialAlpha;
        var lastLine = TimeSpan.Zero;
        bool completed = false;

        async Task<Table?> TickAsync()
        {
            var elapsed = clock.Elapsed;
            if (elapsed >= PipelineStatistics.WarmUp && !breakdown.Recording) breakdown.StartRecording();
            double scheduled = options.Schedule.AlphaAt(elapsed, initialAlpha);
            if (scheduled != alpha)
            {
                alpha = scheduled;
                // The Scorer reads Steering through IOptionsMonitor: set and reload, as a ConfigMap edit would.
                configuration["Steering:Alpha"] = alpha.ToString(CultureInfo.InvariantCulture);
                configuration.Reload();
                if (!options.Interactive) Say(string.Create(CultureInfo.InvariantCulture, $"  t={elapsed.TotalSeconds,4:0}s alpha -> {alpha:0.##}"));
            }
            if (replay.IsCompleted) statistics.EventsProduced(replay.Result.Sent);
            var ingestLag = await lag.LagAsync("popsteer-ingest", topics.Interactions);
            var scorerLag = await lag.LagAsync("popsteer-scorer", topics.UsersChanged);
            bool drained = replay.IsCompleted && ingestLag == 0 && scorerLag == 0;
            if (drained && gcUsed is null)
            {
                cpuUsed = cpu?.Stop();
                gcUsed = gc.Stop();
            }
            var quiet = Stopwatch.GetElapsedTime(Interlocked.Read(ref lastRecommendationTicks));
            completed = drained && quiet > TimeSpan.FromSeconds(3) && !story.Refitting;
            // Rates cover the interval since the previous line: every second live, every 5 s in plain mode.
            bool printing = options.Interactive || elapsed - lastLine >= TimeSpan.FromSeconds(5) || completed;
            if (!printing) return null;
            var snapshot = statistics.Tick();

            var drift = story.LastDrift;
            var row = new DashboardRow(elapsed, alpha, snapshot, statistics.Events, statistics.Recommendations, ingestLag, scorerLag,
                liveServed.TailShare, liveSample.TailShare, liveShadow.TailShare, liveSample.Gini, liveShadow.Gini, liveSample.Lists)
            {
                Phase = statistics.Events < reference.DriftAt || reference.Plan is null ? "before drift" : story.Published ? "after refit" : "after drift",
                ModelVersion = story.Serving,
                DriftJs = drift?.JsDivergence ?? double.NaN,
                DriftJsNoise = drift?.SamplingNoiseJs ?? double.NaN,
                HeadOverlap = drift?.HeadOverlap ?? double.NaN,
                UnknownShare = drift?.UnknownShare ?? double.NaN,
                Refit = story.Status,
                StaleTailShare = shadow.Stale is null ? double.NaN : liveStale.TailShare,
                StaleGini = shadow.Stale is null ? double.NaN : liveStale.Gini,
            };
            if (!options.Interactive)
            {
                lastLine = elapsed;
                Say(row.ToLine());
                return null;
            }
            return row.ToTable();
        }

        bool Done() => completed || stop.IsCancellationRequested || (options.Duration is { } d && clock.Elapsed >= d);

        if (options.Interactive)
        {
            await AnsiConsole.Live(new Table().AddColumn("starting ...")).StartAsync(async ctx =>
            {
                while (!Done())
                {
                    if (await TickAsync() is { } table) ctx.UpdateTarget(table);
                    await Task.Delay(1000, CancellationToken.None);
                }
            });
        }
        else
        {
            while (!Done())
            {
                await TickAsync();
                await Task.Delay(1000, CancellationToken.None);
            }
        }

        cpuUsed ??= cpu?.Stop();
        gcUsed ??= gc.Stop();
        stop.Cancel();
        var elapsedTotal = clock.Elapsed;
        var servedIn = TimeSpan.FromTicks(Math.Min(elapsedTotal.Ticks,
            Math.Max(0, (long)((Interlocked.Read(ref lastRecommendationTicks) - streamStartTicks) * (double)TimeSpan.TicksPerSecond / Stopwatch.Frequency))));
        try { await Task.WhenAll(viewer, shadowing, replay); } catch (OperationCanceledException) { }
        var ordered = phases.OrderBy(p => order[p.Key]).Select(p => p.Value).ToArray();
        return new StreamOutcome(statistics, ordered, elapsedTotal, servedIn, Interlocked.Read(ref fallbacks), completed, cpuUsed, gcUsed, breakdown.Describe());
    }

    private const string WarmUpUser = "popsteer-demo-warm-up";

    private static async Task WarmUpAsync(KafkaClientFactory kafka, string topic, Task warmedUp, CancellationToken cancellationToken)
    {
        using (var producer = kafka.CreateProducer())
        {
            var warmUp = new InteractionEvent
            {
                EventId = WarmUpUser, UserId = WarmUpUser, ItemId = "popsteer-demo-unknown-item", Timestamp = DateTimeOffset.UtcNow,
            };
            await producer.ProduceAsync(topic, new Message<string, byte[]>
            {
                Key = WarmUpUser,
                Value = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(warmUp, StreamingJsonContext.Default.InteractionEvent),
            }, cancellationToken);
        }
        try
        {
            await warmedUp.WaitAsync(TimeSpan.FromSeconds(90), cancellationToken);
        }
        catch (TimeoutException)
        {
            Say("      (no warm-up recommendation within 90 s; streaming anyway)");
        }
    }

    /// <summary>Training rows and the live stream: the latest <see cref="DemoOptions.Holdout"/> share of each user's events.</summary>
    private (IReadOnlyList<Interaction> Train, IReadOnlyList<Interaction> Live) LoadAndSplit()
    {
        IReadOnlyList<Interaction> rows;
        if (options.DataPath is { } path)
        {
            rows = InteractionReader.Read(path, options.Format);
            Say($"      {path}: {rows.Count:N0} interactions");
        }
        else
        {
            rows = SyntheticDataGenerator.Generate(new SyntheticDataOptions(options.GeneratedUsers, options.GeneratedItems, options.GeneratedInteractions, options.Seed));
            Say($"      generated {rows.Count:N0} interactions ({options.GeneratedUsers:N0} users, {options.GeneratedItems:N0} items, seed {options.Seed})");
        }
        // Each user's latest events are held out (users with fewer than 4 keep all of theirs for training). The replay
        // keeps every user's own order but interleaves users by their progress through their held-out events: in the
        // data's own time users act in bursts one after another (MovieLens users rate in sessions), which would leave a
        // handful of users active at any moment instead of the whole user base a live service sees.
        var train = new List<Interaction>();
        var live = new List<(Interaction Row, double Progress, int User)>();
        int userIndex = 0;
        foreach (var user in rows.Select((r, i) => (r, i)).GroupBy(x => x.r.UserId, StringComparer.Ordinal))
        {
            var ordered = user.OrderBy(x => x.r.Timestamp).ThenBy(x => x.i).Select(x => x.r).ToArray();
            int held = ordered.Length < 4 ? 0 : Math.Min(ordered.Length - 3, (int)Math.Ceiling(ordered.Length * options.Holdout));
            train.AddRange(ordered[..^held]);
            var heldOut = ordered[^held..];
            live.AddRange(heldOut.Select((r, k) => (r, (k + 0.5) / heldOut.Length, userIndex)));
            userIndex++;
        }
        var stream = live.OrderBy(x => x.Progress).ThenBy(x => x.User).Select(x => x.Row).ToArray();
        Say($"      each user's latest {options.Holdout:P0} held out for the live stream: {stream.Length:N0} events from {live.Select(x => x.User).Distinct().Count():N0} users; {train.Count:N0} train the model");
        return (train, stream);
    }

    /// <summary>Fits on the training rows, or reuses the model an earlier demo fitted on the same rows and settings.</summary>
    private string FitOrReuse(IReadOnlyList<Interaction> trainRows, CancellationToken cancellationToken)
    {
        var data = SequenceDataset.FromInteractions(trainRows);
        var defaults = new FitOptions();
        var fit = defaults with
        {
            Seed = options.Seed,
            SasRec = defaults.SasRec with { MaxEpochs = options.Epochs },
            Sae = defaults.Sae with { MaxEpochs = options.SaeEpochs },
            AnalysisPrefixes = 20_000,
        };
        // The whole recipe is in the key, so a cache from a build with other defaults is fitted anew, not reused.
        var recipe = fit.RecipeHash();
        var directory = Path.Combine(options.WorkDirectory, "models", $"{data.Fingerprint[..16]}-e{options.Epochs}-s{options.SaeEpochs}-seed{options.Seed}-{recipe}");
        try
        {
            var manifest = ModelDirectory.Verify(directory);
            if (manifest.Analysis is not null)
            {
                Say($"      reusing the model fitted earlier on the same data: {directory}");
                return directory;
            }
        }
        catch (ModelFormatException)
        {
            // Not there or incomplete: fit anew.
        }
        Say($"      fitting SASRec + SAE + neuron analysis ({data.UserIds.Count:N0} users, {data.Items.Count:N0} items); this runs once and is cached");
        var clock = Stopwatch.StartNew();
        var report = PopSteerFitter.Fit(data, directory, fit, new EpochPrinter(Say), cancellationToken);
        if (report.Cancelled) throw new OperationCanceledException("fit was cancelled");
        Say(string.Create(CultureInfo.InvariantCulture,
            $"      fitted in {clock.Elapsed.TotalSeconds:0} s: SASRec valid NDCG@10 {report.Metrics.GetValueOrDefault("sasrec.valid.ndcg@10"):0.0000}, SAE valid FVU {report.Metrics.GetValueOrDefault("sae.valid.fvu"):0.000}"));
        return directory;
    }

    /// <summary>Bootstraps the store with the histories the model was trained on, as production would from its warehouse.</summary>
    private static async Task<int> SeedHistoriesAsync(SequenceStore store, IReadOnlyList<Interaction> rows, CancellationToken cancellationToken)
    {
        var perUser = new Dictionary<string, long>(StringComparer.Ordinal);
        var appends = new List<SequenceAppend>(10_000);
        foreach (var row in rows)
        {
            long offset = perUser.TryGetValue(row.UserId, out var o) ? o + 1 : 0;
            perUser[row.UserId] = offset;
            var timestamp = DateTimeOffset.FromUnixTimeMilliseconds(row.Timestamp < 100_000_000_000 ? row.Timestamp * 1000 : row.Timestamp);
            appends.Add(new SequenceAppend(row.UserId, row.ItemId, timestamp, BootstrapTopic, 0, offset));
            if (appends.Count == appends.Capacity)
            {
                await store.AppendAsync(appends, cancellationToken);
                appends.Clear();
            }
        }
        if (appends.Count > 0) await store.AppendAsync(appends, cancellationToken);
        return perUser.Count;
    }

    private void PrintSummary(StreamOutcome outcome, string version, int events, RefitStory story, string? brokerLine)
    {
        var s = outcome.Statistics;
        var (p50, p99, max) = s.TotalLatency();
        double seconds = Math.Max(1e-3, outcome.ServedIn.TotalSeconds);
        Say("");
        Say(outcome.CompletedReplay ? "Summary (every held-out event was served)" : "Summary (stopped before the stream was fully served)");
        Say(string.Create(CultureInfo.InvariantCulture,
            $"  model {version}; {s.Events:N0}/{events:N0} events served in {seconds:0.0} s (first event to last recommendation) = {s.Events / seconds:0} events/s; {s.Recommendations:N0} recommendations = {s.Recommendations / seconds:0} recs/s; {outcome.Fallbacks:N0} fallback lists"));
        Say(string.Create(CultureInfo.InvariantCulture, $"  event-to-recommendation latency: p50 {p50:0.0} ms, p99 {p99:0.0} ms, max {max:0.0} ms"));
        var (steady50, steady99, steadyCount) = s.SteadyLatency();
        if (steadyCount > 0)
            Say(string.Create(CultureInfo.InvariantCulture, $"  steady latency (after the first {PipelineStatistics.WarmUp.TotalSeconds:0} s: consumer groups settled): p50 {steady50:0.0} ms, p99 {steady99:0.0} ms over {steadyCount:N0} recommendations"));
        if (outcome.Breakdown.Length > 0)
            Say($"  where it goes after the first {PipelineStatistics.WarmUp.TotalSeconds:0} s (p50/p99 ms; \"to scorer\" = event in Kafka to the Scorer's batch, \"from scorer\" = that batch to the view): {outcome.Breakdown}");
        if (outcome.Cpu is { } cpu)
        {
            // Where the cores went while streaming (this process only; redis-server is its own process).
            double total = cpu.Groups.Sum(g => g.Seconds);
            Say(string.Create(CultureInfo.InvariantCulture,
                $"  CPU while streaming: {total:0.0} s in {cpu.WallSeconds:0.0} s = {total / cpu.WallSeconds:0.00} cores of {Environment.ProcessorCount}; by thread: ") +
                string.Join(", ", cpu.Groups.Take(8).Select(g => string.Create(CultureInfo.InvariantCulture, $"{g.Group} {g.Seconds / cpu.WallSeconds:0.00}"))));
        }
        Say("  " + outcome.Gc);
        foreach (var line in story.Lines()) Say("  " + line);
        static string F(double x, string format = "0.000") => double.IsNaN(x) ? "-" : x.ToString(format, CultureInfo.InvariantCulture);
        var table = new Table().Title("Served lists by phase and alpha (sample = users with shadow lists; stale = the version before the refit, same alpha)");
        table.AddColumns("phase", "alpha", "recs", "p50 / p99 ms", "tail share all", "tail share sample / unsteered / stale", "gini@10 sample / unsteered / stale", "ndcg@10 next event: served / unsteered / stale", "sampled");
        foreach (var phase in outcome.Phases)
        {
            var (l50, l99) = phase.LatencyMs();
            bool stale = phase.SampleStale.Lists > 0;
            table.AddRow(
                Markup.Escape(phase.Phase),
                phase.Alpha.ToString("0.##", CultureInfo.InvariantCulture),
                phase.Recommendations.ToString("N0", CultureInfo.InvariantCulture),
                $"{F(l50, "0")} / {F(l99, "0")}",
                F(phase.Served.TailShare),
                $"{F(phase.SampleServed.TailShare)} / {F(phase.SampleShadow.TailShare)} / {(stale ? F(phase.SampleStale.TailShare) : "-")}",
                $"{F(phase.SampleServed.Gini)} / {F(phase.SampleShadow.Gini)} / {(stale ? F(phase.SampleStale.Gini) : "-")}",
                $"{F(phase.NdcgServed.Mean, "0.0000")} / {F(phase.NdcgShadow.Mean, "0.0000")} / {(stale ? F(phase.NdcgStale.Mean, "0.0000") : "-")}",
                phase.SampleServed.Lists.ToString("N0", CultureInfo.InvariantCulture));
        }
        AnsiConsole.Write(table);
        Say("  Tail share and Gini are measured against the popularity users show: the training data's before the drift, the drifted stream's after it.");
        Say("  Per sampled list, served minus shadow (mean +- 2 standard errors; lists of one user are correlated, so the true error is larger):");
        foreach (var phase in outcome.Phases)
            Say(string.Create(CultureInfo.InvariantCulture, $"    {phase.Phase}, alpha {phase.Alpha:0.##}: ") + Differences(phase));
        if (brokerLine is not null) Say(brokerLine);
        Say("Stopped the workers, the embedded broker and redis-server.");
    }

    /// <summary>Below this many sampled lists a row's differences are not read (one run, correlated lists).</summary>
    internal const int FewestReadableLists = 200;

    private static string Differences(PhaseStatistics phase)
    {
        // Rounded first: .NET prints a negative mean that rounds to zero as "-+0.000" under a "+...;-..." format.
        static string Signed(double value, string format) =>
            (Math.Round(value, format.Length - 2) is var r && r == 0 ? 0 : r).ToString("+" + format + ";-" + format + ";" + format, CultureInfo.InvariantCulture);
        static string D(PairedDifference d, string what, string format) => d.Count == 0 ? "" : string.Create(CultureInfo.InvariantCulture,
            $"{what} {Signed(d.Mean, format)} +- {(2 * d.StandardError).ToString(format, CultureInfo.InvariantCulture)} ({(d.BeyondNoise ? "beyond noise" : "within noise")})");
        var parts = new[]
        {
            D(phase.TailLift, "tail share vs unsteered", "0.000"),
            D(phase.TailVsStale, "tail share vs stale", "0.000"),
            D(phase.NdcgVsStale, "NDCG@10 vs stale", "0.0000"),
        }.Where(p => p.Length > 0);
        long lists = phase.TailLift.Count;
        string text = string.Join("; ", parts);
        return lists < FewestReadableLists
            ? $"only {lists:N0} sampled lists, too few to read{(text.Length == 0 ? "" : $" ({text})")}"
            : $"{lists:N0} lists: {text}";
    }


    private static void Say(string line) => Console.WriteLine(line);

    /// <summary>Prints one line per epoch of each stage, with the validation metric and ETA.</summary>
    private sealed class EpochPrinter(Action<string> say) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => say("      " + value);
    }
}
