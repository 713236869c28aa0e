using System.Diagnostics.Metrics;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using PopSteer.Scorer;
using PopSteer.Streaming.Contracts;
using PopSteer.Streaming.Tests.Infrastructure;

namespace PopSteer.Streaming.Tests.Scoring;

/// <summary>
/// The Scorer hosted in-process through <see cref="ScorerServiceCollectionExtensions.AddScorer"/>, exactly as
/// Program.cs and the demo host it, with an in-memory configuration whose values a test can change and reload
/// (what a ConfigMap edit does through the JSON file provider).
/// </summary>
public sealed class ScorerTestHost : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly MemoryConfigurationProvider _live;
    private readonly IConfigurationRoot _configuration;
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, long> _counters = new(StringComparer.Ordinal);

    /// <param name="alsoHost">Other services to host beside the Scorer (e.g. AddIngest for the whole pipeline).</param>
    public ScorerTestHost(TestSettings settings, string cacheDirectory, IDictionary<string, string?>? overrides = null,
        Action<IServiceCollection, IConfiguration>? alsoHost = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        var values = new Dictionary<string, string?>(settings.Values)
        {
            ["Scoring:GroupId"] = $"scorer-{Guid.NewGuid():N}",
            ["Scoring:MaxBatchSize"] = "64",
            ["Scoring:MaxBatchWait"] = "00:00:00.020",
            ["Scoring:ModelCacheDirectory"] = cacheDirectory,
            ["Scoring:ModelPollInterval"] = "00:10:00", // swaps in these tests come from announcements only
            ["Steering:Alpha"] = "1.0",
        };
        foreach (var (k, v) in overrides ?? new Dictionary<string, string?>()) values[k] = v;
        builder.Configuration.AddInMemoryCollection(values);
        builder.Services.AddLogging(b => b.AddSimpleConsole(o => o.SingleLine = true).AddFilter("StackExchange.Redis", LogLevel.Warning).AddFilter("Microsoft", LogLevel.Warning));
        alsoHost?.Invoke(builder.Services, builder.Configuration);
        builder.Services.AddScorer(builder.Configuration);
        builder.Services.AddPopSteerMetrics(builder.Configuration, "popsteer-scorer"); // as the Scorer's Program.cs
        _host = builder.Build();
        _configuration = builder.Configuration;
        _live = _configuration.Providers.OfType<MemoryConfigurationProvider>().Last();

        // Only this host's meters (their scope is its IMeterFactory): tests run in parallel, and a Scorer in another
        // test's host publishes the same meter name (a poison test's failed batches once showed up here).
        var meters = _host.Services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == ScorerMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, meters) && instrument is Counter<long>)
                l.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            lock (_counters) _counters[instrument.Name] = _counters.GetValueOrDefault(instrument.Name) + value;
        });
        _listener.Start();
    }

    public IServiceProvider Services => _host.Services;

    private bool _started;

    public async Task StartAsync()
    {
        await _host.StartAsync();
        _started = true;
    }

    public Task StopAsync() => _host.StopAsync();

    /// <summary>Sets configuration keys and raises the reload, as a changed ConfigMap file would.</summary>
    public void Reconfigure(params (string Key, string Value)[] values)
    {
        foreach (var (key, value) in values) _live.Set(key, value);
        _configuration.Reload();
    }

    public long Counter(string name)
    {
        lock (_counters) return _counters.GetValueOrDefault(name);
    }

    /// <summary>Waits until the model holder has a model loaded (the watcher runs on its own thread).</summary>
    public async Task WaitForModelAsync(TimeSpan timeout) =>
        await Services.GetRequiredService<ModelHolder>().WaitForFirstModelAsync(CancellationToken.None).WaitAsync(timeout);

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        // A host whose start failed (bad options) has nothing to stop.
        if (_started)
        {
            try { await _host.StopAsync(); } catch (OperationCanceledException) { }
        }
        _host.Dispose();
    }

    /// <summary>Produces UserChanged signals keyed by user and waits for all to be acknowledged.</summary>
    public static Task SignalAsync(string bootstrapServers, string topic, IEnumerable<UserChanged> signals) =>
        KafkaTestClient.ProduceAsync(bootstrapServers, topic,
            signals.Select(s => ((byte[]?)Encoding.UTF8.GetBytes(s.UserId), (byte[]?)JsonSerializer.SerializeToUtf8Bytes(s, StreamingJsonContext.Default.UserChanged))));
}
