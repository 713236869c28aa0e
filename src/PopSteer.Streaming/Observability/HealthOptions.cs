using System.ComponentModel.DataAnnotations;

namespace PopSteer.Streaming.Observability;

/// <summary>
/// Section "Health": the liveness and readiness checks served at /healthz and /readyz on the metrics port
/// (Metrics:Port). Read once at start-up.
/// </summary>
public sealed class HealthOptions
{
    public const string SectionName = "Health";

    /// <summary>
    /// A consumer loop that has not polled Kafka for this long is stuck (liveness fails, Kubernetes restarts the pod).
    /// A loop that is idle for lack of input still polls, so it stays alive. Longer than the longest batch, including
    /// its retries through a Redis or Kafka outage: restarting a pod does not bring Redis back.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:05", "1.00:00:00", ErrorMessage = "Health:StallTimeout must be between 00:00:05 and 1.00:00:00.")]
    public TimeSpan StallTimeout { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>How long one check (a Redis PING, ...) may take before it counts as failed.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00", ErrorMessage = "Health:CheckTimeout must be between 00:00:00.100 and 00:01:00.")]
    public TimeSpan CheckTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>librdkafka statistics interval for every consumer (Kafka:Consumer:statistics.interval.ms wins): how often a polling loop reports in.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00", ErrorMessage = "Health:StatisticsInterval must be between 00:00:00.100 and 00:05:00.")]
    public TimeSpan StatisticsInterval { get; set; } = TimeSpan.FromSeconds(5);
}
