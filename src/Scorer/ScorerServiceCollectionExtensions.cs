using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using PopSteer.Streaming.DependencyInjection;
using PopSteer.Streaming.Registry;

namespace PopSteer.Scorer;

public static class ScorerServiceCollectionExtensions
{
    /// <summary>
    /// Everything the Scorer needs, hosted in-process: options ("Scoring" validated at start-up; "Steering" live),
    /// Kafka, Redis, the sequence store and the model registry, the model holder and watcher, and the scoring loop.
    /// The Scorer's Program.cs, the CLI's demo and the tests all call this.
    /// </summary>
    public static IServiceCollection AddScorer(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddPopSteerStreaming(configuration).AddModelRegistry(configuration);
        services.AddMetrics();

        services.AddPopSteerSection<ScoringOptions>(configuration, ScoringOptions.SectionName);
        services.AddPopSteerSection<SteeringOptions>(configuration, SteeringOptions.SectionName);
        services.AddOptions<ScoringOptions>()
            .Bind(configuration.GetSection(ScoringOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        // Steering is re-read live. It is bound by hand so that a value that cannot be converted ("abc") becomes a
        // refusal that SteeringControl logs, instead of an exception thrown inside the configuration reload.
        var steering = configuration.GetSection(SteeringOptions.SectionName);
        services.AddOptions<SteeringOptions>();
        services.TryAddSingleton<IOptionsChangeTokenSource<SteeringOptions>>(new ConfigurationChangeTokenSource<SteeringOptions>(steering));
        services.TryAddSingleton<IConfigureOptions<SteeringOptions>>(new ConfigureNamedOptions<SteeringOptions>(Options.DefaultName, o =>
        {
            try
            {
                steering.Bind(o);
            }
            catch (InvalidOperationException e)
            {
                o.BindingError = e.InnerException is null ? e.Message : $"{e.Message} {e.InnerException.Message}";
            }
        }));

        services.TryAddSingleton<ScorerMetrics>();
        services.TryAddSingleton<ModelHolder>();
        services.TryAddSingleton<SteeringControl>();
        services.TryAddSingleton<BatchScorer>();
        services.TryAddSingleton<ShadowSample>();
        // /healthz: the scoring loop keeps polling; /readyz: a model loaded, partitions assigned, Redis reachable.
        services.AddPopSteerHealth(configuration)
            .AddConsumerLoop("scorer", sp => sp.GetRequiredService<IOptions<ScoringOptions>>().Value.GroupId)
            .AddCheck<ModelLoadedHealthCheck>("scorer-model", tags: [PopSteer.Streaming.Observability.HealthTags.Ready]);
        services.TryAddSingleton<PoisonBatchIsolator>();
        services.AddHostedService<ModelWatcher>();
        services.AddHostedService<ScorerWorker>();
        return services;
    }
}
