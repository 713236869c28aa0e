using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
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

    /// <summary>
    /// Binds section <paramref name="section"/> to <typeparamref name="TOptions"/>, validates it (data annotations) at
    /// start-up, and registers it in the service's configuration schema so that an unknown key in it is named: at
    /// start-up it stops the service, on a reload of the configuration file it is refused (see <see cref="AddPopSteerHosting"/>).
    /// </summary>
    public static OptionsBuilder<TOptions> AddPopSteerOptions<TOptions>(this IServiceCollection services, IConfiguration configuration, string section)
        where TOptions : class
    {
        services.AddPopSteerSection<TOptions>(configuration, section);
        return services.AddOptions<TOptions>()
            .Bind(configuration.GetSection(section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
    }

    /// <summary>Registers only the schema of section <paramref name="section"/> (for options bound by hand, such as live steering).</summary>
    public static IServiceCollection AddPopSteerSection<TOptions>(this IServiceCollection services, IConfiguration configuration, string section)
    {
        services.AddPopSteerHosting(configuration).Register(section, typeof(TOptions));
        return services;
    }

    /// <summary>
    /// What every PopSteer host shares, registered once: a failed worker stops the host with a non-zero exit code;
    /// unknown keys in the registered sections stop the service at start-up; the configuration files' refusals are
    /// logged and counted. Returns the service's configuration schema.
    /// </summary>
    public static PopSteerConfigurationSchema AddPopSteerHosting(this IServiceCollection services, IConfiguration configuration)
    {
        if (services.FirstOrDefault(d => d.ServiceType == typeof(PopSteerConfigurationSchema))?.ImplementationInstance is PopSteerConfigurationSchema existing)
            return existing;
        var schema = new PopSteerConfigurationSchema();
        services.AddSingleton(schema);
        services.Configure<HostOptions>(o => o.BackgroundServiceExceptionBehavior = BackgroundServiceExceptionBehavior.StopHost);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ServiceFailureExitCode>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, ConfigFileReporter>(sp =>
            new ConfigFileReporter(configuration, schema, sp.GetService<IMeterFactory>(), sp.GetService<ILoggerFactory>())));
        services.AddOptions<ConfigurationKeyCheck>().ValidateOnStart();
        services.AddSingleton<IValidateOptions<ConfigurationKeyCheck>>(new UnknownKeysValidator(configuration, schema));
        return schema;
    }

    /// <summary><see cref="KafkaOptions"/> ("Kafka"), <see cref="KafkaClientFactory"/> and the resilience pipelines.</summary>
    public static IServiceCollection AddPopSteerKafka(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddPopSteerOptions<KafkaOptions>(configuration, KafkaOptions.SectionName);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<KafkaOptions>, KafkaOptionsValidator>());
        services.TryAddSingleton<KafkaClientFactory>();
        return services.AddPopSteerResilience(configuration);
    }

    /// <summary><see cref="RedisOptions"/> ("Redis"), one shared <see cref="IConnectionMultiplexer"/>, and the resilience pipelines.</summary>
    public static IServiceCollection AddPopSteerRedis(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddPopSteerOptions<RedisOptions>(configuration, RedisOptions.SectionName);
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
        services.AddPopSteerOptions<SequenceOptions>(configuration, SequenceOptions.SectionName);
        services.TryAddSingleton<SequenceStore>();
        return services;
    }

    /// <summary><see cref="ResilienceOptions"/> ("Resilience") and <see cref="StreamingResilience"/>.</summary>
    public static IServiceCollection AddPopSteerResilience(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddPopSteerSection<ResilienceOptions>(configuration, ResilienceOptions.SectionName);
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
