using PopSteer.Embedded;
using StackExchange.Redis;

namespace PopSteer.Streaming.Tests.Infrastructure;

/// <summary>
/// A private redis-server for a test (see <see cref="LocalRedisServer"/>, which the demo uses too): a free port, no
/// persistence, Stop()/Start() on the same port so clients reconnect by themselves, killed on dispose.
/// <see cref="StartWithAppendOnlyFile"/> gives a server whose acknowledged writes survive Stop()/Start(), as a
/// production Redis with AOF does. Use as an xunit class fixture or create one per test.
/// </summary>
public sealed class RedisServerFixture : IDisposable
{
    private readonly LocalRedisServer _server;

    public RedisServerFixture()
        : this(appendOnly: false)
    {
    }

    private RedisServerFixture(bool appendOnly) => _server = LocalRedisServer.Start(appendOnly);

    public static RedisServerFixture StartWithAppendOnlyFile() => new(appendOnly: true);

    public int Port => _server.Port;

    /// <summary>A StackExchange.Redis connection string for this server (reconnects on its own after an outage).</summary>
    public string ConnectionString => _server.ConnectionString;

    public bool IsRunning => _server.IsRunning;

    public void Start() => _server.Restart();

    /// <summary>Kills the server (no shutdown save): an abrupt outage.</summary>
    public void Stop() => _server.Stop();

    /// <summary>A fresh connection for test assertions (the code under test has its own).</summary>
    public ConnectionMultiplexer Connect() => ConnectionMultiplexer.Connect(ConnectionString);

    public void FlushAll()
    {
        using var redis = ConnectionMultiplexer.Connect(ConnectionString + ",allowAdmin=true");
        redis.GetServer("127.0.0.1", Port).FlushAllDatabases();
    }

    public void Dispose() => _server.Dispose();
}
