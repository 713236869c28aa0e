using System.Text.Json.Serialization.Metadata;
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
/// What a Scorer test class against the shared redis-server and mock cluster stands on: settings pointing at both,
/// the streaming services a test drives the Scorer through (the registry it publishes tiny real models to, the
/// SequenceStore it writes histories with, as Ingest does) and a scratch directory, all per test.
/// </summary>
public abstract class ScorerTestBed(RedisServerFixture redis, KafkaFixture kafka)
    : IClassFixture<RedisServerFixture>, IClassFixture<KafkaFixture>, IAsyncLifetime
{
    protected static readonly DateTimeOffset T0 = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    protected static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private ServiceProvider? _services;
    private long _offset;

    protected RedisServerFixture Redis { get; } = redis;
    protected KafkaFixture Kafka { get; } = kafka;
    protected ScratchDirectory Scratch { get; } = new();
    protected TestSettings Settings { get; } = new(kafka.BootstrapServers, redis.ConnectionString);
    protected ServiceProvider Services => _services ?? throw new InvalidOperationException("services are built in InitializeAsync");
    protected ModelRegistry Registry => Services.GetRequiredService<ModelRegistry>();
    protected SequenceStore Store => Services.GetRequiredService<SequenceStore>();
    protected RegistryKeys Keys => new(Settings["Redis:KeyPrefix"]);
    protected string RecommendationsTopic => Settings["Kafka:Topics:Recommendations"];

    public Task InitializeAsync()
    {
        _services = new ServiceCollection().AddLogging().AddPopSteerStreamingForTests(Settings).BuildServiceProvider();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_services is not null) await _services.DisposeAsync();
        Scratch.Dispose();
    }

    /// <summary>The next interactions-topic offset, as Ingest would stamp an append (one per event).</summary>
    protected long NextOffset() => _offset++;

    protected async Task<(string Dir, ModelVersionInfo Info)> PublishTinyModelAsync(string name, int seed)
    {
        var dir = Scratch.Sub(name);
        TinyModelFactory.Create(dir, items: 30, seed: seed);
        return (dir, await Registry.PublishAsync(dir));
    }

    /// <summary>A real AddScorer host on these settings, its model cache in <paramref name="cache"/>.</summary>
    protected ScorerTestHost Scorer(string cache, params (string Key, string? Value)[] overrides) =>
        new(Settings, cache, overrides.ToDictionary(o => o.Key, o => o.Value));

    protected Task SignalAsync(IEnumerable<UserChanged> signals) =>
        ScorerTestHost.SignalAsync(Kafka.BootstrapServers, Settings.UsersChangedTopic, signals);

    /// <summary>Reads <paramref name="topic"/> from the start until <paramref name="done"/>; the topic appears with its first record.</summary>
    protected List<T> ReadUntil<T>(string topic, JsonTypeInfo<T> type, Func<IReadOnlyList<T>, bool> done) =>
        KafkaTestClient.ConsumeValuesOnceCreated(Kafka.BootstrapServers, topic, type, done, Patience);

    protected List<Recommendation> Recommendations(Func<IReadOnlyList<Recommendation>, bool> done) =>
        ReadUntil(RecommendationsTopic, ScorerJsonContext.Default.Recommendation, done);
}
