using Microsoft.Extensions.DependencyInjection;
using PopSteer.Streaming.DependencyInjection;
using PopSteer.Streaming.Registry;
using PopSteer.Streaming.Tests.Infrastructure;

namespace PopSteer.Streaming.Tests.Scoring;

internal static class StreamingTestServices
{
    /// <summary>The shared streaming services plus the model registry, from test settings.</summary>
    public static IServiceCollection AddPopSteerStreamingForTests(this IServiceCollection services, TestSettings settings)
    {
        var configuration = settings.Build();
        return services.AddPopSteerStreaming(configuration).AddModelRegistry(configuration);
    }
}
