using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using PopSteer.Streaming.DependencyInjection;

namespace PopSteer.Streaming.Registry;

public static class RegistryServiceCollectionExtensions
{
    /// <summary>
    /// <see cref="ModelRegistry"/> over the shared Redis connection, with a <see cref="ModelAnnouncer"/> on the
    /// Kafka models topic (its producer is created when the registry is first resolved).
    /// </summary>
    public static IServiceCollection AddModelRegistry(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddPopSteerRedis(configuration).AddPopSteerKafka(configuration);
        services.TryAddSingleton<ModelAnnouncer>();
        services.TryAddSingleton<ModelRegistry>();
        return services;
    }
}
