using Microsoft.Extensions.Options;
using PopSteer.Streaming.DependencyInjection;

namespace PopSteer.Ingest;

/// <summary>Hosts the Ingest worker: in its own process (Program.cs) or inside another host (the CLI's demo, tests).</summary>
public static class IngestServiceCollectionExtensions
{
    public static IServiceCollection AddIngest(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddPopSteerStreaming(configuration);
        services.AddPopSteerOptions<IngestOptions>(configuration, IngestOptions.SectionName);
        services.AddMetrics();
        services.AddSingleton<IngestMetrics>();
        // /healthz: the loop keeps polling; /readyz: partitions assigned and Redis reachable.
        services.AddPopSteerHealth(configuration)
            .AddConsumerLoop("ingest", sp => sp.GetRequiredService<IOptions<IngestOptions>>().Value.GroupId);
        services.AddHostedService<IngestWorker>();
        return services;
    }
}
