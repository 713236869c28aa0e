using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PopSteer.Streaming.Configuration;
using PopSteer.Streaming.Kafka;
using PopSteer.Streaming.Resilience;
using PopSteer.Streaming.Sequences;
using StackExchange.Redis;

namespace PopSteer.Streaming.DependencyInjection;

/// <summary>
/// Registers the shared streaming pieces; each is bound from its configuration section and validated at start-up
/// (a bad setting stops the host with a message naming the key). Safe to call more than once.
/// </summary>
public static class StreamingServiceCollectionExtensions
{
    /// <summary>Kafka, Redis, the Polly pipelines and the sequence store.</summary>
    public static IServiceCollection AddPopSteerStreaming(this IServiceCollection services, IConfiguration configuration) =>
        services.AddPopSteerKafka(configuration).AddPopSteerRedis(configuration).AddSequenceStore(configuration);

    /// <summary><see cref="KafkaOptions"/> ("Kafka"), <see cref="KafkaClientFactory"/> and the resilience pipelines.</summary>
    public static IServiceCollection AddPopSteerKafka(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<KafkaOptions>()
            .Bind(configuration.GetSection(KafkaOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<KafkaOptions>, KafkaOptionsValidator>());
        services.TryAddSingleton<KafkaClientFactory>();
        return services.AddPopSteerResilience(configuration);
    }

    /// <summary><see cref="RedisOptions"/> ("Redis"), one shared <see cref="IConnectionMultiplexer"/>, and the resilience pipelines.</summary>
    public static IServiceCollection AddPopSteerRedis(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RedisOptions>()
            .Bind(configuration.GetSection(RedisOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RedisOptions>, RedisOptionsValidator>());
        services.TryAddSingleton<IConnectionMultiplexer>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<RedisOptions>>().Value;
            return ConnectRedis(options.Configuration, sp.GetService<ILoggerFactory>());
        });
        return services.AddPopSteerResilience(configuration);
    }

    /// <summary><see cref="SequenceOptions"/> ("Sequences") and <see cref="SequenceStore"/>; needs <see cref="AddPopSteerRedis"/>.</summary>
    public static IServiceCollection AddSequenceStore(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddPopSteerRedis(configuration);
        services.AddOptions<SequenceOptions>()
            .Bind(configuration.GetSection(SequenceOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton<SequenceStore>();
        return services;
    }

    /// <summary><see cref="ResilienceOptions"/> ("Resilience") and <see cref="StreamingResilience"/>.</summary>
    public static IServiceCollection AddPopSteerResilience(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ResilienceOptions>()
            .Bind(configuration.GetSection(ResilienceOptions.SectionName))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ResilienceOptions>, ResilienceOptionsValidator>());
        services.TryAddSingleton<StreamingResilience>();
        return services;
    }

    /// <summary>
    /// Connects without failing when Redis is not up yet: the multiplexer keeps reconnecting in the background and
    /// calls fail fast (then retry through the pipeline) until it is back.
    /// </summary>
    public static IConnectionMultiplexer ConnectRedis(string configuration, ILoggerFactory? loggerFactory = null)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false;
        if (loggerFactory is not null) options.LoggerFactory = loggerFactory;
        return ConnectionMultiplexer.Connect(options);
    }
}
