using System.ComponentModel.DataAnnotations;

namespace PopSteer.Streaming.Configuration;

/// <summary>Section "Redis".</summary>
public sealed class RedisOptions
{
    public const string SectionName = "Redis";

    /// <summary>A StackExchange.Redis configuration string ("host:port,password=...,ssl=true").</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Redis:Configuration is required (a StackExchange.Redis connection string, e.g. localhost:6379).")]
    public string Configuration { get; set; } = "";

    /// <summary>Prefix of every key; lets several deployments share one Redis.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Redis:KeyPrefix must not be empty.")]
    [RegularExpression("^[^{}\\s]+$", ErrorMessage = "Redis:KeyPrefix must not contain '{{', '}}' or spaces (they would break the per-user hash tag).")]
    public string KeyPrefix { get; set; } = "popsteer";

    /// <summary>
    /// Replicas that must acknowledge Ingest's writes (Redis WAIT) before its batch counts as durable and is committed;
    /// 0 (the default) = the primary's acknowledgement is enough. With a replica, a primary lost with its disk loses nothing.
    /// </summary>
    [Range(0, 16, ErrorMessage = "Redis:WaitReplicas must be between 0 (off) and 16.")]
    public int WaitReplicas { get; set; }

    /// <summary>How long one WAIT waits for the replicas; fewer acknowledgements fail the batch, which is then retried uncommitted.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00", ErrorMessage = "Redis:WaitTimeout must be between 1 ms and 1 minute.")]
    public TimeSpan WaitTimeout { get; set; } = TimeSpan.FromSeconds(1);
}
