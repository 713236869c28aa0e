using System.Globalization;
using Microsoft.Extensions.Options;
using Polly;
using PopSteer.Streaming.Configuration;
using PopSteer.Streaming.Resilience;
using StackExchange.Redis;

namespace PopSteer.Retrainer;

/// <summary>
/// The tracker's state in Redis. All keys share the hash tag <c>{prefix:retrainer}</c>, so one MULTI/EXEC writes
/// them together (valid on Redis Cluster): a restart resumes from a consistent checkpoint.
/// <code>
/// {prefix:retrainer}:popularity  hash  item id -> weight relative to the landmark (see DecayedCounts)
/// {prefix:retrainer}:state       hash  landmarkMs, latestMs, halfLifeMs, events, eventsSinceRefit, offset:{topic}:{partition}
/// {prefix:retrainer}:users       zset  user id -> latest event time (unix ms), the newest MaxUsers kept
/// {prefix:retrainer}:lease       string  "instance:token" of the Retrainer allowed to write (RetrainerLease)
/// {prefix:retrainer}:lease-token string  the last fencing token handed out
/// </code>
/// </summary>
public sealed class PopularityCheckpoint(IConnectionMultiplexer redis, StreamingResilience resilience, IOptions<RedisOptions> redisOptions, IOptions<RetrainerOptions> options)
{
    private const string OffsetPrefix = "offset:";
    private readonly string _tag = "{" + redisOptions.Value.KeyPrefix + ":retrainer}";
    private readonly ResiliencePipeline _pipeline = resilience.Redis;
    private readonly RetrainerOptions _options = options.Value;

    public RedisKey PopularityKey => _tag + ":popularity";
    public RedisKey StateKey => _tag + ":state";
    public RedisKey UsersKey => _tag + ":users";
    public RedisKey LeaseKey => _tag + ":lease";
    public RedisKey LeaseTokenKey => _tag + ":lease-token";

    /// <summary>Writes the state atomically; when this returns the checkpoint is acknowledged by Redis.</summary>
    /// <param name="lease">The lease value this writer holds: the transaction applies only while the lease still holds
    /// it (same hash slot, checked at EXEC), else <see cref="LeaseLostException"/> and nothing is written.</param>
    public async Task SaveAsync(CheckpointData data, string? lease, CancellationToken cancellationToken = default)
    {
        var counts = data.Scaled.Select(kv => new HashEntry(kv.Key, kv.Value)).ToArray();
        var state = new List<HashEntry>
        {
            new("landmarkMs", data.Landmark.ToUnixTimeMilliseconds()),
            new("latestMs", data.Latest.ToUnixTimeMilliseconds()),
            new("halfLifeMs", (long)data.HalfLife.TotalMilliseconds),
            new("events", data.Events),
            new("eventsSinceRefit", data.EventsSinceRefit),
        };
        state.AddRange(data.NextOffsets.Select(kv => new HashEntry(OffsetPrefix + kv.Key, kv.Value)));
        var users = data.RecentUsers.Select(kv => new SortedSetEntry(kv.Key, kv.Value)).ToArray();

        await _pipeline.ExecuteAsync(async token =>
        {
            var transaction = redis.GetDatabase().CreateTransaction();
            var fenced = lease is null ? null : transaction.AddCondition(Condition.StringEqual(LeaseKey, lease));
            _ = transaction.KeyDeleteAsync(PopularityKey);
            if (counts.Length > 0) _ = transaction.HashSetAsync(PopularityKey, counts);
            _ = transaction.KeyDeleteAsync(StateKey);
            _ = transaction.HashSetAsync(StateKey, [.. state]);
            if (users.Length > 0)
            {
                // GT: a user's score only moves forward, so an older event replayed elsewhere never hides a newer one.
                _ = transaction.SortedSetAddAsync(UsersKey, users, SortedSetWhen.GreaterThan);
                _ = transaction.SortedSetRemoveRangeByRankAsync(UsersKey, 0, -(_options.MaxUsers + 1));
            }
            if (!await transaction.ExecuteAsync().WaitAsync(token).ConfigureAwait(false))
            {
                if (fenced is { WasSatisfied: false }) throw new LeaseLostException($"{LeaseKey} no longer holds '{lease}': checkpoint refused");
                throw new RedisException("The popularity checkpoint transaction was not applied.");
            }
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The stored state, or null when none was saved yet.</summary>
    public async Task<CheckpointData?> LoadAsync(CancellationToken cancellationToken = default)
    {
        var (state, counts) = await _pipeline.ExecuteAsync(async token =>
        {
            var db = redis.GetDatabase();
            var s = db.HashGetAllAsync(StateKey);
            var c = db.HashGetAllAsync(PopularityKey);
            return (await s.WaitAsync(token).ConfigureAwait(false), await c.WaitAsync(token).ConfigureAwait(false));
        }, cancellationToken).ConfigureAwait(false);
        if (state.Length == 0) return null;

        var fields = state.ToDictionary(e => e.Name.ToString(), e => e.Value, StringComparer.Ordinal);
        long Read(string name) => fields.TryGetValue(name, out var v) && v.TryParse(out long l)
            ? l
            : throw new InvalidDataException($"Redis key {StateKey}: field '{name}' is missing or not an integer; delete the key to start counting afresh.");
        var offsets = fields.Where(kv => kv.Key.StartsWith(OffsetPrefix, StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key[OffsetPrefix.Length..], kv => (long)kv.Value, StringComparer.Ordinal);
        var scaled = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var e in counts)
        {
            if (!e.Value.TryParse(out double w) || !double.IsFinite(w) || w < 0)
                throw new InvalidDataException($"Redis key {PopularityKey}: item '{e.Name}' has weight '{e.Value}', not a finite non-negative number.");
            scaled[e.Name.ToString()] = w;
        }
        return new CheckpointData(
            DateTimeOffset.FromUnixTimeMilliseconds(Read("landmarkMs")),
            DateTimeOffset.FromUnixTimeMilliseconds(Read("latestMs")),
            TimeSpan.FromMilliseconds(Read("halfLifeMs")),
            scaled, Read("events"), Read("eventsSinceRefit"), offsets, new Dictionary<string, long>());
    }

    /// <summary>The most recently active users, newest first.</summary>
    public async Task<IReadOnlyList<string>> RecentUsersAsync(int max, CancellationToken cancellationToken = default)
    {
        var users = await _pipeline.ExecuteAsync(async token =>
            await redis.GetDatabase().SortedSetRangeByRankAsync(UsersKey, 0, max - 1, Order.Descending).WaitAsync(token).ConfigureAwait(false),
            cancellationToken).ConfigureAwait(false);
        return users.Select(u => u.ToString()).ToArray();
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{PopularityKey}, {StateKey}, {UsersKey}");
}

/// <summary>A write was refused because this instance no longer holds the Retrainer lease.</summary>
public sealed class LeaseLostException(string message) : Exception(message);

/// <summary>One consistent copy of the tracker's state, as saved and loaded.</summary>
public sealed record CheckpointData(
    DateTimeOffset Landmark,
    DateTimeOffset Latest,
    TimeSpan HalfLife,
    IReadOnlyDictionary<string, double> Scaled,
    long Events,
    long EventsSinceRefit,
    IReadOnlyDictionary<string, long> NextOffsets,
    IReadOnlyDictionary<string, long> RecentUsers);
