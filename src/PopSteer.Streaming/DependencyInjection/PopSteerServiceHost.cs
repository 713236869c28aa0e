using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace PopSteer.Streaming.DependencyInjection;

/// <summary>How every PopSteer service's Program.cs runs its host.</summary>
public static class PopSteerServiceHost
{
    /// <summary>
    /// Connects to Redis, then runs the host. The connect cannot be cancelled and, against a Redis that accepts
    /// connections but does not answer (paused, overloaded, a half-open network), takes ConnectTimeout x ConnectRetry
    /// (15 s by default, far more under load). Inside the host's start it would hold a SIGTERM that long and more: the
    /// host takes SIGTERM over when it starts and then waits for start-up to finish (chaos finding F5, a Scorer not
    /// stopped 40 s after SIGTERM). Before the host starts, .NET's own SIGTERM handling ends the process at once (exit
    /// 143), which is what a service that has consumed and written nothing yet should do.
    /// </summary>
    public static void RunPopSteerService(this IHost host)
    {
        _ = host.Services.GetService<IConnectionMultiplexer>();
        host.Run();
    }
}
