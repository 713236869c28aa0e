using System.ComponentModel.DataAnnotations;

namespace PopSteer.Streaming.Observability;

/// <summary>
/// Section "Metrics": the Prometheus scrape endpoint every PopSteer service can expose. Read once at start-up
/// (a listener cannot move ports live).
/// </summary>
public sealed class MetricsOptions
{
    public const string SectionName = "Metrics";

    /// <summary>TCP port of the scrape endpoint; 0 turns the endpoint off.</summary>
    [Range(0, 65535, ErrorMessage = "Metrics:Port must be between 0 (off) and 65535.")]
    public int Port { get; set; }

    /// <summary>Host part of the listener prefix: "+" or "*" listens on every interface (a pod), "localhost" only locally.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Metrics:Host is required (\"+\" for every interface, or a host name).")]
    [RegularExpression(@"^[^\s/:]+$", ErrorMessage = "Metrics:Host must be a bare host name, '+' or '*' (no scheme, port or path).")]
    public string Host { get; set; } = "+";

    /// <summary>Path of the scrape endpoint.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Metrics:Path is required.")]
    [RegularExpression(@"^/[^\s]*$", ErrorMessage = "Metrics:Path must start with '/' and contain no spaces.")]
    public string Path { get; set; } = "/metrics";

    /// <summary>Meter names to export; a trailing '*' is a wildcard. Default: every PopSteer meter.</summary>
    public List<string> Meters { get; set; } = [];

    internal IReadOnlyList<string> EffectiveMeters => Meters.Count == 0 ? [DefaultMeters] : Meters;

    public const string DefaultMeters = "PopSteer.*";
}
