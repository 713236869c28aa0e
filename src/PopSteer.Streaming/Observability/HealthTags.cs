namespace PopSteer.Streaming.Observability;

/// <summary>The two probes: which checks /healthz and /readyz run.</summary>
public static class HealthTags
{
    /// <summary>Liveness (/healthz): the process is making progress; failing means restart it.</summary>
    public const string Live = "live";

    /// <summary>Readiness (/readyz): the service can do its work now (model loaded, partitions assigned, Redis up).</summary>
    public const string Ready = "ready";
}
