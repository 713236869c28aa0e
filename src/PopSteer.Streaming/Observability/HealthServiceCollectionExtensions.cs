using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using PopSteer.Streaming.Observability;
using StackExchange.Redis;

// In the DI namespace, as the health-check builder's own extensions are.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// The checks behind /healthz and /readyz (served on the metrics port by <c>AddPopSteerMetrics</c>). Each service
/// registers its own: <c>services.AddPopSteerHealth(configuration).AddConsumerLoop("ingest", ...)</c>.
/// </summary>
public static class HealthServiceCollectionExtensions
{
    /// <summary>
    /// Options ("Health", validated at start-up), the consumer-loop tracker that every Kafka consumer reports to, and
    /// the readiness check "redis" (PING). Safe to call more than once (the demo hosts two services in one process).
    /// </summary>
    public static IHealthChecksBuilder AddPopSteerHealth(this IServiceCollection services, IConfiguration configuration)
    {
        var builder = services.AddHealthChecks();
        if (services.Any(d => d.ServiceType == typeof(ConsumerLoopHealth))) return builder;
        services.AddOptions<HealthOptions>()
            .Bind(configuration.GetSection(HealthOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddMetrics();
        services.TryAddSingleton<ConsumerLoopHealth>();
        builder.Add(new HealthCheckRegistration("redis",
            sp => new RedisReachableCheck(sp.GetRequiredService<IConnectionMultiplexer>(), Options(sp).CheckTimeout),
            HealthStatus.Unhealthy, [HealthTags.Ready]));
        return builder;
    }

    /// <summary>
    /// A consumer loop of the service: liveness "{loop}-loop" (it keeps polling) and readiness "{loop}-kafka" (its
    /// group has assigned it partitions). <paramref name="groupId"/> reads the group from the service's options.
    /// </summary>
    public static IHealthChecksBuilder AddConsumerLoop(this IHealthChecksBuilder builder, string loop, Func<IServiceProvider, string> groupId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(loop);
        builder.Services.AddSingleton(sp => new WatchedConsumerGroup(loop, groupId(sp)));
        builder.Add(new HealthCheckRegistration($"{loop}-loop",
            sp => new ConsumerLoopLivenessCheck(sp.GetRequiredService<ConsumerLoopHealth>(), Watched(sp, loop), Options(sp).StallTimeout),
            HealthStatus.Unhealthy, [HealthTags.Live]));
        builder.Add(new HealthCheckRegistration($"{loop}-kafka",
            sp => new KafkaAssignmentCheck(sp.GetRequiredService<ConsumerLoopHealth>(), Watched(sp, loop)),
            HealthStatus.Unhealthy, [HealthTags.Ready]));
        return builder;
    }

    private static HealthOptions Options(IServiceProvider services) => services.GetRequiredService<IOptions<HealthOptions>>().Value;

    private static WatchedConsumerGroup Watched(IServiceProvider services, string loop) =>
        services.GetRequiredService<ConsumerLoopHealth>().Watched.First(g => g.Loop == loop);
}
