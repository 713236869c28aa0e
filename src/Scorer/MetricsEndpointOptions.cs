namespace PopSteer.Scorer;

/// <summary>Section "Metrics": an optional Prometheus scrape endpoint for every PopSteer.* meter in the process.</summary>
public sealed class MetricsEndpointOptions
{
    public const string SectionName = "Metrics";

    /// <summary>Port serving <c>http://{PrometheusHost}:{port}/metrics</c>; empty or 0 = no endpoint.</summary>
    public int? PrometheusPort { get; set; }

    /// <summary>Host name the listener binds (<c>+</c> or <c>*</c> = every interface, as in a container).</summary>
    public string PrometheusHost { get; set; } = "localhost";
}
