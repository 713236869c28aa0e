using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;
using PopSteer.Ingest;
using PopSteer.Streaming.Configuration;
using PopSteer.Streaming.Tests.Infrastructure;

namespace PopSteer.Streaming.Tests.Configuration;

/// <summary>The shared popsteer.json (a ConfigMap) while services run and when they start: refused, kept, logged, counted.</summary>
public sealed class ConfigFileTests : IDisposable
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private readonly string _directory = Directory.CreateTempSubdirectory("popsteer-config-").FullName;

    private string FilePath => Path.Combine(_directory, "popsteer.json");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    // Written to a temporary file and moved over the old one, as a ConfigMap update swaps its files.
    private void Write(string content)
    {
        var temporary = FilePath + ".tmp";
        File.WriteAllText(temporary, content);
        File.Move(temporary, FilePath, overwrite: true);
    }

    [Fact]
    public async Task Broken_json_or_an_empty_file_while_running_is_refused_counted_and_the_last_good_values_stay()
    {
        Write("""{ "Steering": { "Alpha": 3 } }""");
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Steering:Alpha"] = "1.5" })
            .AddPopSteerConfigFile(FilePath, Poll)
            .Build();
        var file = configuration.PopSteerConfigFiles().Single();
        var refusals = new ConcurrentQueue<string>();
        file.Refused += refusals.Enqueue;
        var reloads = 0;
        using var _ = ChangeToken.OnChange(configuration.GetReloadToken, () => Interlocked.Increment(ref reloads));
        Assert.Equal("3", configuration["Steering:Alpha"]);

        Write("""{ "Steering": { "Alpha": """);
        await Eventually.Until(() => refusals.Count == 1, Patience, () => "broken JSON not refused");
        Assert.Equal("3", configuration["Steering:Alpha"]);
        Assert.Contains("not valid JSON", file.CurrentRefusal, StringComparison.Ordinal);
        Assert.Contains(FilePath, file.CurrentRefusal, StringComparison.Ordinal);

        Write("");
        await Eventually.Until(() => refusals.Count == 2, Patience, () => "empty file not refused");
        Assert.Equal("3", configuration["Steering:Alpha"]);
        Assert.Contains("is empty", file.CurrentRefusal, StringComparison.Ordinal);
        Assert.Equal(0, Volatile.Read(ref reloads)); // listeners never saw a change

        Write("""{ "Steering": { "Alpha": 2 } }""");
        await Eventually.Until(() => configuration["Steering:Alpha"] == "2", Patience, () => "the fixed file was not applied");
        Assert.Null(file.CurrentRefusal);
        Assert.Equal(2, file.Refusals);
        await Eventually.Until(() => Volatile.Read(ref reloads) >= 1, Patience, () => "no reload notification");
    }

    [Fact]
    public async Task A_broken_file_at_start_up_falls_back_to_the_other_sources_with_a_loud_error_and_a_count()
    {
        Write("{ this is not json");
        using var redis = new RedisServerFixture();
        using var broker = new KafkaFixture();
        var settings = new TestSettings(broker.BootstrapServers, redis.ConnectionString);
        settings["Ingest:MaxBatchSize"] = "77";
        var logs = new ConcurrentQueue<(LogLevel Level, string Message)>();
        using var counted = new CounterProbe(ConfigFileReporter.MeterName, "popsteer.config.refused");

        using var host = BuildIngestHost(settings, logs);
        await host.StartAsync();
        try
        {
            var file = host.Services.GetRequiredService<IConfiguration>().PopSteerConfigFiles().Single();
            Assert.Contains("not valid JSON", file.StartupRefusal, StringComparison.Ordinal);
            Assert.Equal(77, host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<IngestOptions>>().Value.MaxBatchSize);
            Assert.Contains(logs, l => l.Level == LogLevel.Error && l.Message.Contains(FilePath, StringComparison.Ordinal) && l.Message.Contains("START-UP", StringComparison.Ordinal));
            Assert.Equal(1, counted.Total);

            // Fixed while running: applied from the next poll on.
            Write("""{ "Ingest": { "RetryPause": "00:00:03" } }""");
            var configuration = host.Services.GetRequiredService<IConfiguration>();
            await Eventually.Until(() => configuration["Ingest:RetryPause"] == "00:00:03", Patience, () => "fixed file not applied");
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task An_unknown_key_on_reload_is_refused_named_and_counted_and_the_last_good_configuration_stays()
    {
        Write("""{ "Ingest": { "RetryPause": "00:00:02" } }""");
        using var redis = new RedisServerFixture();
        using var broker = new KafkaFixture();
        var logs = new ConcurrentQueue<(LogLevel Level, string Message)>();
        using var counted = new CounterProbe(ConfigFileReporter.MeterName, "popsteer.config.refused");
        using var host = BuildIngestHost(new TestSettings(broker.BootstrapServers, redis.ConnectionString), logs);
        await host.StartAsync();
        try
        {
            var configuration = host.Services.GetRequiredService<IConfiguration>();
            var file = configuration.PopSteerConfigFiles().Single();
            Assert.Equal("00:00:02", configuration["Ingest:RetryPause"]);

            Write("""{ "Ingest": { "RetryPause": "00:00:09", "MaxBatchSise": 10 } }""");
            await Eventually.Until(() => file.Refusals == 1, Patience, () => "typo not refused");
            Assert.Equal("00:00:02", configuration["Ingest:RetryPause"]);
            Assert.Contains("Ingest:MaxBatchSise", file.CurrentRefusal, StringComparison.Ordinal);
            Assert.Contains(logs, l => l.Level == LogLevel.Error && l.Message.Contains("Ingest:MaxBatchSise", StringComparison.Ordinal));
            Assert.Equal(1, counted.Total);

            // Another service's section is not Ingest's to judge: applied.
            Write("""{ "Ingest": { "RetryPause": "00:00:04" }, "Steering": { "Alpah": 3 } }""");
            await Eventually.Until(() => configuration["Ingest:RetryPause"] == "00:00:04", Patience, () => "valid file not applied");
        }
        finally
        {
            await host.StopAsync();
        }
    }

    private IHost BuildIngestHost(TestSettings settings, ConcurrentQueue<(LogLevel, string)> logs)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings.Values);
        builder.Configuration.AddPopSteerConfigFile(FilePath, Poll);
        builder.Logging.AddProvider(new CollectingLoggerProvider(logs)).SetMinimumLevel(LogLevel.Information);
        builder.Services.AddIngest(builder.Configuration);
        return builder.Build();
    }

    private sealed class CollectingLoggerProvider(ConcurrentQueue<(LogLevel, string)> logs) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Collecting(logs);

        public void Dispose()
        {
        }

        private sealed class Collecting(ConcurrentQueue<(LogLevel, string)> logs) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                logs.Enqueue((logLevel, formatter(state, exception)));
        }
    }
}

/// <summary>Sums one counter of one meter, whichever meter instance (host) publishes it.</summary>
internal sealed class CounterProbe : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _total;

    public CounterProbe(string meter, string instrument)
    {
        _listener.InstrumentPublished = (i, l) =>
        {
            if (i.Meter.Name == meter && i.Name == instrument) l.EnableMeasurementEvents(i);
        };
        _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _total, value));
        _listener.Start();
    }

    public long Total => Interlocked.Read(ref _total);

    public void Dispose() => _listener.Dispose();
}
