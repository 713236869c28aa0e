namespace PopSteer.Streaming.Configuration;

/// <summary>Section "Resilience": one pipeline for Redis calls, one for Kafka calls.</summary>
public sealed class ResilienceOptions
{
    public const string SectionName = "Resilience";

    public RetryPipelineOptions Redis { get; set; } = new();
    public RetryPipelineOptions Kafka { get; set; } = new() { AttemptTimeout = TimeSpan.FromSeconds(30) };
}
