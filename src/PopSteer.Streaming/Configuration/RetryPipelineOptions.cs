namespace PopSteer.Streaming.Configuration;

/// <summary>
/// Retry (exponential backoff with jitter) around a circuit breaker around a per-attempt timeout. When the retries
/// run out the caller gets the exception and must try the same work again later: work is retried, never dropped.
/// </summary>
public sealed class RetryPipelineOptions
{
    public int MaxRetryAttempts { get; set; } = 6;
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromMilliseconds(100);
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(5);
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(5);
    public double BreakerFailureRatio { get; set; } = 0.5;
    public int BreakerMinimumThroughput { get; set; } = 10;
    public TimeSpan BreakerSamplingDuration { get; set; } = TimeSpan.FromSeconds(10);
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(2);
}
