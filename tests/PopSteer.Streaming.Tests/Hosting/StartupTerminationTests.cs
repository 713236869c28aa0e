using System.Net;
using System.Net.Sockets;
using PopSteer.Streaming.Tests.Infrastructure;

namespace PopSteer.Streaming.Tests.Hosting;

/// <summary>
/// A service sent SIGTERM while it is still starting stops at once. Chaos finding F5: a Scorer whose start-up waited
/// on Redis was still running 40 s after SIGTERM. Real service processes; a "Redis" that accepts connections and
/// never answers (what a paused or wedged server looks like to a client).
/// </summary>
[Collection(Chaos.ChaosDrillCollection.Name)] // process-heavy: never beside the drill
public sealed class StartupTerminationTests
{
    [Theory]
    [InlineData("Scorer")]
    [InlineData("Ingest")]
    public async Task A_service_sent_sigterm_while_its_redis_connect_hangs_exits_promptly(string service)
    {
        using var silentRedis = new TcpListener(IPAddress.Loopback, 0);
        silentRedis.Start();
        var port = ((IPEndPoint)silentRedis.LocalEndpoint).Port;
        var held = new List<Socket>();
        var accepting = Task.Run(async () =>
        {
            try
            {
                while (true) held.Add(await silentRedis.AcceptSocketAsync());
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        });

        // 3 attempts of 10 s: a start-up that waits for the connect holds SIGTERM for 30 s.
        var settings = new TestSettings("127.0.0.1:1", $"127.0.0.1:{port},abortConnect=false,connectTimeout=10000,connectRetry=3");
        using var process = ServiceProcess.Start(settings, service);
        try
        {
            await Eventually.Until(() => held.Count > 0 || process.HasExited, TimeSpan.FromSeconds(60), () => $"{service} never connected to Redis:\n{process.Output}");
            Assert.False(process.HasExited, process.Output);

            Assert.True(process.Terminate(TimeSpan.FromSeconds(10)), $"{service} still running 10 s after SIGTERM during its Redis connect:\n{process.Output}");
        }
        finally
        {
            silentRedis.Stop();
            foreach (var socket in held) socket.Dispose();
            await accepting;
        }
    }
}
