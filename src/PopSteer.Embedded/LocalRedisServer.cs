using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace PopSteer.Embedded;

/// <summary>
/// A private <c>redis-server</c> on a free loopback port, for the demo, benchmarks and tests: no persistence unless
/// asked for (then an append-only file with fsync on every write, as a production Redis with AOF), stopped and
/// restarted on the same port so clients reconnect by themselves, killed on dispose. Never touches a system Redis.
/// </summary>
public sealed class LocalRedisServer : IDisposable
{
    private readonly Lock _gate = new();
    private readonly string? _dataDirectory;
    private Process? _process;

    private LocalRedisServer(string executable, bool appendOnly)
    {
        Executable = executable;
        Port = FreeTcpPort();
        if (appendOnly)
        {
            _dataDirectory = Path.Combine(Path.GetTempPath(), $"popsteer-redis-{Guid.NewGuid():N}");
            Directory.CreateDirectory(_dataDirectory);
        }
    }

    /// <summary>Starts a server. Throws with a clear message when redis-server is not installed.</summary>
    public static LocalRedisServer Start(bool appendOnly = false)
    {
        var executable = FindExecutable()
            ?? throw new FileNotFoundException("redis-server was not found on PATH or in /usr/bin, /usr/local/bin, /usr/sbin (Debian: apt-get install redis-server).", "redis-server");
        var server = new LocalRedisServer(executable, appendOnly);
        server.Restart();
        return server;
    }

    public string Executable { get; }
    public int Port { get; }

    /// <summary>A StackExchange.Redis connection string that keeps reconnecting through an outage.</summary>
    public string ConnectionString => $"127.0.0.1:{Port},abortConnect=false,connectTimeout=2000,syncTimeout=2000,asyncTimeout=2000";

    public bool IsRunning { get { lock (_gate) return _process is { HasExited: false }; } }

    /// <summary>Starts the server on <see cref="Port"/> if it is not running and waits until it answers.</summary>
    public void Restart()
    {
        lock (_gate)
        {
            if (_process is { HasExited: false }) return;
            var persistence = _dataDirectory is null ? "--appendonly no" : $"--appendonly yes --appendfsync always --dir {_dataDirectory}";
            var start = new ProcessStartInfo(Executable, $"--port {Port} --bind 127.0.0.1 --save \"\" {persistence} --protected-mode no")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            _process = Process.Start(start) ?? throw new InvalidOperationException($"{Executable} did not start.");
            // Drain its output so a full pipe never blocks the server.
            _process.OutputDataReceived += (_, _) => { };
            _process.ErrorDataReceived += (_, _) => { };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!Ping())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"redis-server on port {Port} did not answer PING within 10 s.");
            Thread.Sleep(25);
        }
    }

    /// <summary>Kills the server without a shutdown save: an abrupt outage.</summary>
    public void Stop()
    {
        lock (_gate)
        {
            if (_process is null) return;
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
            _process.Dispose();
            _process = null;
        }
        // The port must be free before a test asserts behaviour "while Redis is down".
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (Ping())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"redis-server on port {Port} still answers after Stop().");
            Thread.Sleep(25);
        }
    }

    public void Dispose()
    {
        Stop();
        if (_dataDirectory is not null)
        {
            try { Directory.Delete(_dataDirectory, recursive: true); }
            catch (IOException) { /* best effort: a temp directory */ }
        }
    }

    private bool Ping() => Answers(Port);

    /// <summary>PING over a raw socket: no client library, so it cannot be confused by a client's own reconnect logic.</summary>
    public static bool Answers(int port)
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

    public static string? FindExecutable()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        var directories = path.Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(["/usr/bin", "/usr/local/bin", "/usr/sbin"]);
        return directories.Select(d => Path.Combine(d, "redis-server")).FirstOrDefault(File.Exists);
    }

    /// <summary>A loopback port nothing listens on right now.</summary>
    public static int FreeTcpPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
