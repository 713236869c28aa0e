using System.Net;
using System.Net.Sockets;

namespace PopSteer.Chaos;

/// <summary>Free ports and a raw Redis PING (no client library, so no reconnect logic can confuse it).</summary>
public static class Loopback
{
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static bool RedisAnswers(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            using var stream = client.GetStream();
            stream.ReadTimeout = 1000;
            stream.Write("PING\r\n"u8);
            var buffer = new byte[16];
            int n = stream.Read(buffer, 0, buffer.Length);
            return n >= 5 && System.Text.Encoding.ASCII.GetString(buffer, 0, n).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException) { return false; }
        catch (IOException) { return false; }
    }

    public static async Task WaitForRedisAsync(int port, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!RedisAnswers(port))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"redis-server on port {port} did not answer PING within {timeout.TotalSeconds:F0} s.");
            await Task.Delay(50);
        }
    }
}
