using Microsoft.Extensions.Options;

namespace PopSteer.Streaming.Configuration;

/// <summary>Names the offending key; Polly would otherwise fail later with its own, less helpful, message.</summary>
internal sealed class ResilienceOptionsValidator : IValidateOptions<ResilienceOptions>
{
    public ValidateOptionsResult Validate(string? name, ResilienceOptions options)
    {
        var failures = new List<string>();
        Check("Resilience:Redis", options.Redis, failures);
        Check("Resilience:Kafka", options.Kafka, failures);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Check(string section, RetryPipelineOptions o, List<string> failures)
    {
        // The ranges Polly v8 accepts for each strategy.
        if (o.MaxRetryAttempts is < 1 or > 100) failures.Add($"{section}:MaxRetryAttempts must be between 1 and 100 (got {o.MaxRetryAttempts}).");
        if (o.BaseDelay < TimeSpan.Zero || o.BaseDelay > TimeSpan.FromDays(1)) failures.Add($"{section}:BaseDelay must be between 0 and 1 day (got {o.BaseDelay}).");
        if (o.MaxDelay < o.BaseDelay) failures.Add($"{section}:MaxDelay must be at least BaseDelay (got {o.MaxDelay}).");
        if (o.AttemptTimeout < TimeSpan.FromMilliseconds(10) || o.AttemptTimeout > TimeSpan.FromDays(1)) failures.Add($"{section}:AttemptTimeout must be between 10 ms and 1 day (got {o.AttemptTimeout}).");
        if (double.IsNaN(o.BreakerFailureRatio) || o.BreakerFailureRatio <= 0 || o.BreakerFailureRatio > 1) failures.Add($"{section}:BreakerFailureRatio must be in (0, 1] (got {o.BreakerFailureRatio}).");
        if (o.BreakerMinimumThroughput < 2) failures.Add($"{section}:BreakerMinimumThroughput must be at least 2 (got {o.BreakerMinimumThroughput}).");
        if (o.BreakerSamplingDuration < TimeSpan.FromMilliseconds(500) || o.BreakerSamplingDuration > TimeSpan.FromDays(1)) failures.Add($"{section}:BreakerSamplingDuration must be between 500 ms and 1 day (got {o.BreakerSamplingDuration}).");
        if (o.BreakDuration < TimeSpan.FromMilliseconds(500) || o.BreakDuration > TimeSpan.FromDays(1)) failures.Add($"{section}:BreakDuration must be between 500 ms and 1 day (got {o.BreakDuration}).");
    }
}
