using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace PopSteer.Streaming.Observability;

/// <summary>
/// Readiness: the consumer group has assigned this instance at least one partition. A replica beyond the topic's
/// partition count never is, which is why the autoscalers stop at the partition count.
/// </summary>
public sealed class KafkaAssignmentCheck(ConsumerLoopHealth loops, WatchedConsumerGroup group) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(loops.State(group.GroupId) switch
        {
            null => HealthCheckResult.Unhealthy($"{group.Loop}: no consumer of group {group.GroupId} has polled yet"),
            { AssignedPartitions: 0 } s => HealthCheckResult.Unhealthy($"{group.Loop}: group {group.GroupId} has assigned no partition to this instance (group state {s.GroupState})"),
            var s => HealthCheckResult.Healthy($"{group.Loop}: {s.AssignedPartitions} partitions of group {group.GroupId} assigned, lag {s.Lag}"),
        });
}
