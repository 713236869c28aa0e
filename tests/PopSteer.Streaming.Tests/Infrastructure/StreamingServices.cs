using Microsoft.Extensions.DependencyInjection;
using PopSteer.Streaming.DependencyInjection;

namespace PopSteer.Streaming.Tests.Infrastructure;

/// <summary>The shared streaming services (Kafka factory, Redis, pipelines, sequence store) built from test settings.</summary>
public static class StreamingServices
{
    public static ServiceProvider Build(TestSettings settings) =>
        new ServiceCollection()
            .AddLogging()
            .AddPopSteerStreaming(settings.Build())
            .BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
}
