using Microsoft.Extensions.Options;
using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using PopSteer.Streaming.DependencyInjection;
using PopSteer.Streaming.Observability;

// In the DI namespace, as OpenTelemetry's own extensions are: each host's Program.cs wires it with one line.
namespace Microsoft.Extensions.DependencyInjection;

public static class MetricsServiceCollectionExtensions
{
    /// <summary>
    /// Exports the service's System.Diagnostics.Metrics meters (every "PopSteer.*" meter unless Metrics:Meters says
    /// otherwise) in Prometheus text format over HTTP at http://{Metrics:Host}:{Metrics:Port}{Metrics:Path}, through
    /// OpenTelemetry's Prometheus HttpListener exporter. Metrics:Port = 0 (the default) exports nothing.
    /// A bad setting stops the host at start-up with a message naming the key.
    /// The same port serves the health checks the service registered (<c>AddPopSteerHealth</c>): /healthz (liveness)
    /// and /readyz (readiness), for Kubernetes' probes.
    /// </summary>
    public static IServiceCollection AddPopSteerMetrics(this IServiceCollection services, IConfiguration configuration, string serviceName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(serviceName);
        var section = configuration.GetSection(MetricsOptions.SectionName);
        services.AddOptions<MetricsOptions>().Bind(section).ValidateDataAnnotations().ValidateOnStart();
        services.AddPopSteerSection<MetricsOptions>(configuration, MetricsOptions.SectionName);

        // The listener's prefix is fixed when the meter provider is built, so the options are read (and checked) now.
        var options = section.Get<MetricsOptions>() ?? new MetricsOptions();
        var errors = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), errors, validateAllProperties: true))
            throw new OptionsValidationException(MetricsOptions.SectionName, typeof(MetricsOptions), errors.Select(e => e.ErrorMessage ?? "invalid"));
        if (options.Port == 0) return services;

        services.AddHealthChecks();
        services.AddHostedService(sp => ActivatorUtilities.CreateInstance<HealthEndpoint>(sp, options));

        services.AddMetrics();
        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(serviceName))
            .WithMetrics(metrics =>
            {
                foreach (var meter in options.EffectiveMeters) metrics.AddMeter(meter);
                metrics.AddPrometheusHttpListener(o =>
                {
                    o.Port = options.Port;
                    o.ScrapeEndpointPath = options.Path;
                    if (options.Host is "+" or "*")
                    {
                        // The exporter's own prefix must be a parseable host; a wildcard (every interface: what a pod
                        // needs) replaces it before the listener starts, as the exporter's documentation shows.
                        var wildcard = $"http://{options.Host}:{options.Port}{options.Path.TrimEnd('/')}/";
                        o.ConfigureHttpListener = (_, listener) =>
                        {
                            listener.Prefixes.Clear();
                            listener.Prefixes.Add(wildcard);
                        };
                    }
                    else o.Host = options.Host;
                });
            });
        return services;
    }
}
