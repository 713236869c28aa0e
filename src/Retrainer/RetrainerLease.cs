using System.Globalization;
using Microsoft.Extensions.Options;
using PopSteer.Streaming.Registry;
using StackExchange.Redis;

namespace PopSteer.Retrainer;

/// <summary>
/// Only one Retrainer writes: a lease in Redis (<c>{prefix:retrainer}:lease</c> = "instance:token", with a TTL of
/// <see cref="RetrainerOptions.LeaseTtl"/>, renewed every third of it) whose token comes from a counter that only
/// grows (<c>{prefix:retrainer}:lease-token</c>). A standby instance waits without consuming; it takes over when the
/// holder stops (the lease is released) or stops renewing (it expires).
/// <para>
/// The token fences every write of a holder that lost the lease without knowing it (a long GC pause, SIGSTOP, a
/// partition): each checkpoint is a transaction conditioned on the lease still holding this instance's value (same
/// hash slot as the checkpoint), and each publish carries the token to the registry, which refuses a token lower than
/// the highest it has seen (<see cref="RegistryFence"/>); a new holder raises that mark as soon as it takes the lease.
/// </para>
/// </summary>
public sealed class RetrainerLease(
    IConnectionMultiplexer redis,
    ModelRegistry registry,
    PopularityCheckpoint checkpoint,
    IOptions<RetrainerOptions> options,
    ILogger<RetrainerLease> logger) : BackgroundService
{
    // Takes a free lease with the next token, renews our own, and returns the token held (nil: someone else holds it).
    private const string AcquireScript = """
        local v = redis.call('GET', KEYS[1])
        if v then
          local owner, token = string.match(v, '^(.*):(%d+)$')
          if owner == ARGV[1] then
            redis.call('PEXPIRE', KEYS[1], ARGV[2])
            return tonumber(token)
          end
          return false
        end
        local token = redis.call('INCR', KEYS[2])
        redis.call('SET', KEYS[1], ARGV[1] .. ':' .. token, 'PX', ARGV[2])
        return token
        """;

    // Deletes the lease only if it is still ours (a clean stop hands over at once instead of after the TTL).
    private const string ReleaseScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """;

    private readonly RetrainerOptions _options = options.Value;
    private readonly Lock _gate = new();
    private Held? _held;
    private TaskCompletionSource<Held> _acquired = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>This process's identity in the lease (Retrainer:InstanceId, else host name and process id).</summary>
    public string InstanceId { get; } = string.IsNullOrWhiteSpace(options.Value.InstanceId)
        ? $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid():N}"
        : options.Value.InstanceId;

    public RedisKey LeaseKey => checkpoint.LeaseKey;
    public RedisKey TokenKey => checkpoint.LeaseTokenKey;

    /// <summary>The lease as held now, or null. Its <see cref="Held.Lost"/> token fires when it is lost.</summary>
    public Held? Current
    {
        get { lock (_gate) return _held; }
    }

    /// <summary>Waits until this instance holds the lease.</summary>
    public Task<Held> WaitHeldAsync(CancellationToken cancellationToken)
    {
        Task<Held> task;
        lock (_gate) task = _held is { } h ? Task.FromResult(h) : _acquired.Task;
        return task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// A writer found it was fenced off (its conditional checkpoint was refused, or the registry refused its token):
    /// give the lease up at once so every component stops writing, then compete for it again.
    /// </summary>
    public void ReportLost(Held held, string reason)
    {
        lock (_gate)
        {
            if (!ReferenceEquals(_held, held)) return;
            _held = null;
            _acquired = new TaskCompletionSource<Held>(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        logger.LogWarning("Retrainer lease {Token} lost ({Reason}): stopped writing; waiting to take it again", held.Token, reason);
        held.Cancel();
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stopping)
    {
        Thread.CurrentThread.Name = "ps-lease"; // the OS thread name too: per-thread CPU (top -H, the demo) tells the loops apart
        var renewEvery = TimeSpan.FromTicks(_options.LeaseTtl.Ticks / 3);
        bool waitingLogged = false;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                var result = redis.GetDatabase().ScriptEvaluate(AcquireScript, [LeaseKey, TokenKey],
                    [InstanceId, (long)_options.LeaseTtl.TotalMilliseconds]);
                long? token = result.IsNull ? null : (long)result;
                var held = Current;
                if (held is not null && token != held.Token)
                    ReportLost(held, token is null ? "another instance holds it" : "it expired before renewal");
                if (token is { } t && Current is null)
                {
                    // Raise the registry's fence first: from here a stale holder's publish is refused.
                    registry.RaiseFenceAsync(new RegistryFence(FenceName, t), stopping).GetAwaiter().GetResult();
                    var now = new Held(t, $"{InstanceId}:{t.ToString(CultureInfo.InvariantCulture)}");
                    TaskCompletionSource<Held> acquired;
                    lock (_gate)
                    {
                        _held = now;
                        acquired = _acquired;
                    }
                    acquired.TrySetResult(now);
                    logger.LogInformation("Retrainer {Instance} holds the lease (token {Token}, TTL {Ttl})", InstanceId, t, _options.LeaseTtl);
                    waitingLogged = false;
                }
                else if (token is null && !waitingLogged)
                {
                    logger.LogInformation("Retrainer {Instance} is standing by: another instance holds the lease", InstanceId);
                    waitingLogged = true;
                }
                Current?.Renewed();
            }
            catch (Exception e) when (e is RedisException or TimeoutException or ModelRegistryException)
            {
                logger.LogWarning("Lease renewal failed: {Error}", e.Message);
                // Unrenewed, the lease may expire and pass to another instance: stop writing before it can.
                if (Current is { } held && held.Since.Elapsed > _options.LeaseTtl - renewEvery) ReportLost(held, "not renewed within its TTL");
            }
            stopping.WaitHandle.WaitOne(renewEvery);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (Current is not { } held) return;
        try
        {
            await redis.GetDatabase().ScriptEvaluateAsync(ReleaseScript, [LeaseKey], [held.Value]);
            logger.LogInformation("Retrainer {Instance} released the lease (token {Token})", InstanceId, held.Token);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            logger.LogWarning("Could not release the lease ({Error}); it expires after {Ttl}", e.Message, _options.LeaseTtl);
        }
    }

    /// <summary>The registry fence the Retrainer's publishes are checked against.</summary>
    public const string FenceName = "retrainer";

    /// <summary>One tenure of the lease: its fencing token, the value stored in Redis, and a token cancelled when it ends.</summary>
    public sealed class Held(long token, string value)
    {
        private readonly CancellationTokenSource _lost = new();

        public long Token { get; } = token;
        public string Value { get; } = value;
        public CancellationToken Lost => _lost.Token;
        public RegistryFence Fence => new(FenceName, Token);
        internal System.Diagnostics.Stopwatch Since { get; } = System.Diagnostics.Stopwatch.StartNew();
        internal void Renewed() => Since.Restart();
        internal void Cancel() => _lost.Cancel();
    }
}
