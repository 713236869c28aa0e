using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace PopSteer.Scorer;

/// <summary>Readiness: a verified model has been loaded from the registry, so the Scorer can score.</summary>
public sealed class ModelLoadedHealthCheck(ModelHolder holder) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(holder.WaitForFirstModelAsync(CancellationToken.None).IsCompletedSuccessfully
            ? HealthCheckResult.Healthy($"model loaded (serving {holder.ServingVersion ?? "it from the next batch"})")
            : HealthCheckResult.Unhealthy("no model loaded yet: waiting for the registry's current version (popsteer publish --model DIR)"));
}
