using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PopSteer.Core.Testing;
using PopSteer.Scorer;
using PopSteer.Streaming.Contracts;
using PopSteer.Streaming.Registry;
using PopSteer.Streaming.Sequences;
using PopSteer.Streaming.Tests.Infrastructure;

namespace PopSteer.Streaming.Tests.Scoring;

/// <summary>
/// A recommendation carries the steering in force when it was scored. The chaos drill's "broken JSON" finding: a
/// batch consumed just before a Redis pause took its alpha at consumption, waited out the pause in its sequence
/// read, and was stamped seconds after the next alpha edit had been applied, with the old alpha.
/// Real redis-server (AOF, stopped and restarted), the mock Kafka cluster, a tiny real model, the real AddScorer host.
/// </summary>
public sealed class SteeringAtScoringTimeTests(KafkaFixture kafka) : IClassFixture<KafkaFixture>, IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private static readonly DateTimeOffset T0 = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly ScratchDirectory _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public async Task A_batch_held_up_by_a_redis_outage_is_scored_with_the_alpha_applied_meanwhile()
    {
        using var redis = RedisServerFixture.StartWithAppendOnlyFile();
        var settings = new TestSettings(kafka.BootstrapServers, redis.ConnectionString);
        // The batch's sequence read keeps retrying through the outage instead of failing the batch (which would
        // rewind it and take the steering again).
        settings["Resilience:Redis:MaxRetryAttempts"] = "100";
        settings["Resilience:Redis:MaxDelay"] = "00:00:00.200";
        await using var services = new ServiceCollection().AddLogging().AddPopSteerStreamingForTests(settings).BuildServiceProvider();
        var model = _scratch.Sub("model");
        TinyModelFactory.Create(model, items: 30, seed: 3);
        await services.GetRequiredService<ModelRegistry>().PublishAsync(model);
        var store = services.GetRequiredService<SequenceStore>();
        var users = Enumerable.Range(0, 8).Select(i => $"u{i}").ToArray();
        await store.AppendAsync(users.Select((u, i) => new SequenceAppend(u, "i1", T0, settings.InteractionsTopic, 0, i)).ToArray());

        var logs = new RetryLog();
        await using var scorer = new ScorerTestHost(settings, _scratch.Sub("cache"), alsoHost: (s, _) => s.AddSingleton<ILoggerProvider>(logs));
        await scorer.StartAsync();
        await scorer.WaitForModelAsync(Patience);
        var steering = scorer.Services.GetRequiredService<SteeringControl>();

        // The scoring loop is assigned and serving alpha 1.
        await SignalAsync(settings, ["warm"], T0);
        Assert.All(Recommendations(settings, ["warm"]), r => Assert.Equal(1.0, r.Alpha));

        redis.Stop();
        await SignalAsync(settings, users, T0.AddMinutes(1));
        // The batch is in hand: its sequence read is failing and being retried.
        await Eventually.Until(() => logs.Retries > 0, Patience, () => "the batch's Redis read was never retried");
        scorer.Reconfigure(("Steering:Alpha", "3"));
        Assert.Equal(3.0, steering.Applied?.Alpha);
        redis.Start();

        var recommendations = Recommendations(settings, users);
        Assert.All(recommendations, r => Assert.Equal(3.0, r.Alpha));
    }

    private static Task SignalAsync(TestSettings settings, IEnumerable<string> users, DateTimeOffset at) =>
        ScorerTestHost.SignalAsync(settings.BootstrapServers, settings.UsersChangedTopic, users.Select(u => new UserChanged
        {
            UserId = u, LastEventId = $"{u}-{at.ToUnixTimeMilliseconds()}", LastItemId = "i1", EventTimestamp = at, EnqueuedAt = DateTimeOffset.UtcNow,
        }));

    /// <summary>Each user's first recommendation.</summary>
    private static IEnumerable<Recommendation> Recommendations(TestSettings settings, IReadOnlyCollection<string> users) =>
        KafkaTestClient.ConsumeValuesOnceCreated(settings.BootstrapServers, settings["Kafka:Topics:Recommendations"], ScorerJsonContext.Default.Recommendation,
                seen => users.All(u => seen.Any(r => r.UserId == u)), Patience)
            .Where(r => users.Contains(r.UserId))
            .GroupBy(r => r.UserId)
            .Select(g => g.First());

    /// <summary>Counts the Redis pipeline's retry warnings (<see cref="Streaming.Resilience.StreamingResilience"/>).</summary>
    private sealed class RetryLog : ILoggerProvider, ILogger
    {
        private int _retries;

        public int Retries => Volatile.Read(ref _retries);

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var message = formatter(state, exception);
            if (message.StartsWith("redis: attempt", StringComparison.Ordinal)) Interlocked.Increment(ref _retries);
        }

        public void Dispose() { }
    }
}
