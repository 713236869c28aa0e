using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace PopSteer.Streaming.Observability;

/// <summary>Readiness: Redis answers PING within Health:CheckTimeout.</summary>
public sealed class RedisReachableCheck(IConnectionMultiplexer redis, TimeSpan timeout) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var roundTrip = await redis.GetDatabase().PingAsync().WaitAsync(timeout, cancellationToken);
            return HealthCheckResult.Healthy($"Redis PING {roundTrip.TotalMilliseconds:0.0} ms");
        }
        catch (TimeoutException)
        {
            return HealthCheckResult.Unhealthy($"Redis did not answer PING within {timeout.TotalSeconds:0.#} s");
        }
        catch (Exception e) when (e is RedisException or ObjectDisposedException)
        {
            // The first sentence only: the rest lists the multiplexer's internals. It never holds the password.
            var reason = e.Message.Split(';', 2)[0];
            return HealthCheckResult.Unhealthy($"Redis unreachable: {reason}");
        }
    }
}
