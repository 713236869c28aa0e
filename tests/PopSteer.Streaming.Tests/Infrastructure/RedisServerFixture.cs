using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace PopSteer.Streaming.Tests.Infrastructure;

/// <summary>
/// A private redis-server on a free port with no persistence (--save "" --appendonly no). Stop() and Start() reuse
/// the same port so clients reconnect by themselves, which is what the outage tests need. Killed on dispose.
/// Use as an xunit class fixture or create one per test. <see cref="StartWithAppendOnlyFile"/> gives a server whose
/// acknowledged writes survive Stop()/Start() (AOF, fsync on every write), as a production Redis with AOF does.
/// </summary>
public sealed class RedisServerFixture : IDisposable
{
    private readonly object _gate = new();
    private readonly string? _dataDirectory;
    private Process? _process;

    public RedisServerFixture()
        : this(appendOnly: false)
    {
    }

    private RedisServerFixture(bool appendOnly)
    {
        Port = FreePort.Next();
        if (appendOnly)
        {
            _dataDirectory = Path.Combine(Path.GetTempPath(), $"popsteer-redis-{Guid.NewGuid():N}");
            Directory.CreateDirectory(_dataDirectory);
        }
        Start();
    }

    public static RedisServerFixture StartWithAppendOnlyFile() => new(appendOnly: true);

    public int Port { get; }

    /// <summary>A StackExchange.Redis connection string for this server (reconnects on its own after an outage).</summary>
    public string ConnectionString => $"127.0.0.1:{Port},abortConnect=false,connectTimeout=2000,syncTimeout=2000,asyncTimeout=2000";

    public bool IsRunning
    {
        get { lock (_gate) return _process is { HasExited: false }; }
    }

    public void Start()
    {
        lock (_gate)
        {
            if (_process is { HasExited: false }) return;
            var persistence = _dataDirectory is null
                ? "--appendonly no"
                : $"--appendonly yes --appendfsync always --dir {_dataDirectory}";
            var start = new ProcessStartInfo(ExecutablePath(), $"--port {Port} --bind 127.0.0.1 --save \"\" {persistence} --protected-mode no")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
            _process.OutputDataReceived += (_, _) => { };
            _process.ErrorDataReceived += (_, _) => { };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }
        WaitUntil(Ping, TimeSpan.FromSeconds(10), "redis-server did not answer PING");
    }

    /// <summary>Kills the server (no shutdown save): an abrupt outage.</summary>
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
        WaitUntil(() => !Ping(), TimeSpan.FromSeconds(10), "redis-server still answers after Stop()");
    }

    /// <summary>A fresh connection for test assertions (the code under test has its own).</summary>
    public ConnectionMultiplexer Connect() => ConnectionMultiplexer.Connect(ConnectionString);

    public void FlushAll()
    {
        using var redis = ConnectionMultiplexer.Connect(ConnectionString + ",allowAdmin=true");
        redis.GetServer("127.0.0.1", Port).FlushAllDatabases();
    }

    public void Dispose()
    {
        Stop();
        if (_dataDirectory is not null && Directory.Exists(_dataDirectory))
            Directory.Delete(_dataDirectory, recursive: true);
    }

    private bool Ping()
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, Port);
            using var stream = client.GetStream();
            stream.ReadTimeout = 1000;
            stream.Write("PING\r\n"u8);
            var buffer = new byte[16];
            var read = stream.Read(buffer, 0, buffer.Length);
            return read >= 5 && buffer.AsSpan(0, 5).SequenceEqual("+PONG"u8);
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            return false;
        }
    }

    private static void WaitUntil(Func<bool> condition, TimeSpan timeout, string message)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException(message);
            Thread.Sleep(50);
        }
    }

    private static string ExecutablePath()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append("/usr/bin").Append("/usr/sbin"))
        {
            var candidate = Path.Combine(dir, "redis-server");
            if (File.Exists(candidate)) return candidate;
        }
        throw new InvalidOperationException("redis-server is not installed; run scripts/ensure-prereqs.sh (Debian package redis-server).");
    }
}
