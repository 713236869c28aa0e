using PopSteer.Embedded;

namespace PopSteer.Chaos;

/// <summary>Waiting for the drill's own redis-server (it is not a <see cref="LocalRedisServer"/>: the drill needs its pid to stop it).</summary>
public static class Loopback
{
    public static async Task WaitForRedisAsync(int port, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!LocalRedisServer.Answers(port))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"redis-server on port {port} did not answer PING within {timeout.TotalSeconds:F0} s.");
            await Task.Delay(50);
        }
    }
}
