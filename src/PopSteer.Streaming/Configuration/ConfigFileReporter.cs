using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace PopSteer.Streaming.Configuration;

/// <summary>
/// Makes the configuration files' refusals visible: logs each one as an error (a start-up refusal loudly, once the
/// logger exists), counts them on the meter "PopSteer.Configuration" (<c>popsteer.config.refused</c>) and reports
/// whether the file's current content is in force (<c>popsteer.config.file.valid</c>, 1 or 0). It also hands the
/// service's schema to the files, so that from now on a reload naming an unknown key is refused.
/// </summary>
internal sealed class ConfigFileReporter : IHostedService, IDisposable
{
    public const string MeterName = "PopSteer.Configuration";

    private readonly PopSteerConfigFileProvider[] _files;
    private readonly PopSteerConfigurationSchema _schema;
    private readonly ILogger _logger;
    private readonly Meter _meter;
    private readonly Counter<long> _refused;

    public ConfigFileReporter(IConfiguration configuration, PopSteerConfigurationSchema schema, IMeterFactory? meters, ILoggerFactory? loggers)
    {
        _files = configuration.PopSteerConfigFiles().ToArray();
        _schema = schema;
        _logger = (ILogger?)loggers?.CreateLogger<ConfigFileReporter>() ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        _meter = meters?.Create(MeterName) ?? new Meter(MeterName);
        _refused = _meter.CreateCounter<long>("popsteer.config.refused", "{version}", "Configuration file versions refused (empty, not JSON, unknown key, unreadable).");
        _meter.CreateObservableGauge("popsteer.config.file.valid", () => _files.Length == 0 || _files.All(f => f.CurrentRefusal is null) ? 1 : 0,
            null, "1 while every configuration file's current content is in force, 0 while a version is refused.");
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var file in _files)
        {
            if (file.StartupRefusal is { } refusal)
            {
                _refused.Add(1);
                _logger.LogError("CONFIGURATION FILE REFUSED AT START-UP: {Refusal}", refusal);
            }
            file.Refused += OnRefused;
            file.Applied += OnApplied;
            file.UseSchema(_schema);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        foreach (var file in _files)
        {
            file.Refused -= OnRefused;
            file.Applied -= OnApplied;
        }
        return Task.CompletedTask;
    }

    public void Dispose() => _meter.Dispose();

    private void OnRefused(string message)
    {
        _refused.Add(1);
        _logger.LogError("Configuration change refused: {Refusal}", message);
    }

    private void OnApplied() => _logger.LogInformation("Configuration file reloaded");
}
