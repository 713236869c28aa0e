using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using PopSteer.Core.Scoring;
using PopSteer.Core.Testing;
using PopSteer.Scorer;
using PopSteer.Streaming.Configuration;
using PopSteer.Streaming.Tests.Infrastructure;

namespace PopSteer.Streaming.Tests.Configuration;

/// <summary>Two Scorer replicas reading one ConfigMap file end on the same alpha, whatever their traffic.</summary>
public sealed class SteeringConvergenceTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private readonly string _directory = Directory.CreateTempSubdirectory("popsteer-steering-").FullName;

    private string FilePath => Path.Combine(_directory, "popsteer.json");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private void WriteAlpha(string alpha)
    {
        File.WriteAllText(FilePath + ".tmp", $$"""{ "Steering": { "Alpha": {{alpha}} } }""");
        File.Move(FilePath + ".tmp", FilePath, overwrite: true);
    }

    private ServingModel TinyModel()
    {
        var directory = Path.Combine(_directory, "model");
        TinyModelFactory.Create(directory);
        return new ServingModel("tiny", PopSteerModel.Load(directory));
    }

    /// <summary>One replica's configuration (its own copy of the shared file) and its steering control.</summary>
    private sealed class Replica : IDisposable
    {
        private readonly ServiceProvider _services;

        public Replica(string file)
        {
            Configuration = new ConfigurationBuilder()
                .AddInMemoryCollection(new Dictionary<string, string?> { ["Steering:Alpha"] = "1.5", ["Kafka:BootstrapServers"] = "127.0.0.1:1", ["Redis:Configuration"] = "127.0.0.1:1,abortConnect=false" })
                .AddPopSteerConfigFile(file, TimeSpan.FromMilliseconds(100))
                .Build();
            _services = new ServiceCollection().AddLogging().AddSingleton<IConfiguration>(Configuration).AddScorer(Configuration).BuildServiceProvider();
            Steering = _services.GetRequiredService<SteeringControl>();
            Metrics = _services.GetRequiredService<ScorerMetrics>();
        }

        public IConfigurationRoot Configuration { get; }
        public SteeringControl Steering { get; }
        public ScorerMetrics Metrics { get; }

        public void Dispose() => _services.Dispose();
    }

    [Fact]
    public async Task A_replica_that_scores_nothing_between_a_valid_and_an_invalid_edit_still_takes_the_valid_one()
    {
        WriteAlpha("1.5");
        using var model = TinyModel();
        using var busy = new Replica(FilePath);
        using var idle = new Replica(FilePath);
        Assert.Equal(1.5, busy.Steering.Resolve(model).Alpha);

        // A valid edit; only the busy replica scores a batch before the next edit.
        WriteAlpha("3");
        await Eventually.Until(() => busy.Configuration["Steering:Alpha"] == "3" && idle.Configuration["Steering:Alpha"] == "3", Patience, () => "edit not read");
        Assert.Equal(3, busy.Steering.Resolve(model).Alpha);

        // An invalid edit: both refuse it and keep the same last good value.
        WriteAlpha("-1");
        await Eventually.Until(() => busy.Configuration["Steering:Alpha"] == "-1" && idle.Configuration["Steering:Alpha"] == "-1", Patience, () => "edit not read");
        Assert.Equal(3, busy.Steering.Resolve(model).Alpha);
        Assert.Equal(3, idle.Steering.Resolve(model).Alpha);
        Assert.Equal(3, busy.Metrics.AppliedAlpha);
        Assert.Equal(3, idle.Metrics.AppliedAlpha);

        // The next valid edit is in force on both at once, batch or no batch (the applied-alpha gauge).
        WriteAlpha("0.5");
        await Eventually.Until(() => busy.Metrics.AppliedAlpha == 0.5 && idle.Metrics.AppliedAlpha == 0.5, Patience,
            () => $"applied alpha {busy.Metrics.AppliedAlpha} / {idle.Metrics.AppliedAlpha}");
        Assert.Equal(0.5, idle.Steering.Resolve(model).Alpha);
    }

    [Fact]
    public async Task An_invalid_edit_before_the_first_batch_keeps_the_value_the_scorer_started_with()
    {
        // Chaos finding F3: the start-up value was never recorded as the last good one, so every batch failed.
        WriteAlpha("2");
        using var model = TinyModel();
        using var replica = new Replica(FilePath);
        Assert.Equal(2, replica.Metrics.AppliedAlpha);

        WriteAlpha("-1");
        await Eventually.Until(() => replica.Configuration["Steering:Alpha"] == "-1", Patience, () => "edit not read");
        Assert.Equal(2, replica.Steering.Resolve(model).Alpha);
    }
}
