using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using PopSteer.Streaming.DependencyInjection;

namespace PopSteer.Streaming.Registry;

public static class RegistryServiceCollectionExtensions
{
    /// <summary>
    /// <see cref="ModelRegistry"/> over the shared Redis connection, with a <see cref="ModelAnnouncer"/> on the
    /// Kafka models topic (its producer is created when the registry is first resolved), and the "Registry" section
    /// (keys, retention, download bounds) validated at start-up: a key file that is missing or unreadable is named.
    /// </summary>
    public static IServiceCollection AddModelRegistry(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddPopSteerRedis(configuration).AddPopSteerKafka(configuration);
        services.AddOptions<RegistryOptions>()
            .Bind(configuration.GetSection(RegistryOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RegistryOptions>, RegistryOptionsValidator>());
        services.TryAddSingleton<ModelAnnouncer>();
        services.TryAddSingleton<ModelRegistry>();
        return services;
    }
}
