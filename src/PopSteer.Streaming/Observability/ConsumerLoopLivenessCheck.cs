using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace PopSteer.Streaming.Observability;

/// <summary>
/// Liveness of one consumer loop: it has polled Kafka within Health:StallTimeout. A loop waiting for input polls all
/// the time, so it is alive; a loop stuck inside a batch (a hang, a deadlock, a retry that never ends) stops polling
/// and fails. Before its first poll (waiting for a model, connecting) the loop is reported alive: readiness says why
/// it is not working yet, and restarting would not help.
/// </summary>
public sealed class ConsumerLoopLivenessCheck(ConsumerLoopHealth loops, WatchedConsumerGroup group, TimeSpan stallTimeout) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (loops.State(group.GroupId) is not { } state)
            return Task.FromResult(HealthCheckResult.Healthy($"{group.Loop} loop has not started polling yet"));
        var silent = loops.Now - state.ObservedAt;
        return Task.FromResult(silent <= stallTimeout
            ? HealthCheckResult.Healthy($"{group.Loop} loop polled {silent.TotalSeconds:0} s ago")
            : HealthCheckResult.Unhealthy($"{group.Loop} loop has not polled Kafka for {silent.TotalSeconds:0} s (Health:StallTimeout {stallTimeout})"));
    }
}
