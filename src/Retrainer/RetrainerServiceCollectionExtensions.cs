using Microsoft.Extensions.Options;
using PopSteer.Streaming.DependencyInjection;
using PopSteer.Streaming.Registry;

namespace PopSteer.Retrainer;

/// <summary>Hosts the Retrainer: in its own process (Program.cs) or inside another host (the demo, tests).</summary>
public static class RetrainerServiceCollectionExtensions
{
    /// <summary>
    /// Options ("Retrainer", validated at start-up), Kafka, Redis, the sequence store and the model registry, the
    /// lease that lets one instance write, the popularity tracker (its own consumer group) and the drift/refit worker.
    /// </summary>
    public static IServiceCollection AddRetrainer(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddPopSteerStreaming(configuration).AddModelRegistry(configuration);
        services.AddPopSteerSection<RetrainerOptions>(configuration, RetrainerOptions.SectionName);
        services.AddOptions<RetrainerOptions>()
            .Bind(configuration.GetSection(RetrainerOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddMetrics();
        services.AddSingleton<RetrainerMetrics>();
        // /healthz: the popularity tracker keeps polling; /readyz: its partitions assigned and Redis reachable.
        services.AddPopSteerHealth(configuration)
            .AddConsumerLoop("retrainer", sp => sp.GetRequiredService<IOptions<RetrainerOptions>>().Value.GroupId);
        services.AddSingleton<PopularityCheckpoint>();
        services.AddSingleton<RetrainerLease>();
        services.AddSingleton<ModelRefitter>();
        services.AddSingleton<PopularityTracker>();
        services.AddSingleton<RetrainerWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<RetrainerLease>());
        services.AddHostedService(sp => sp.GetRequiredService<PopularityTracker>());
        services.AddHostedService(sp => sp.GetRequiredService<RetrainerWorker>());
        return services;
    }
}
