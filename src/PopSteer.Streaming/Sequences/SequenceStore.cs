using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Polly;
using PopSteer.Streaming.Configuration;
using PopSteer.Streaming.Resilience;
using StackExchange.Redis;

namespace PopSteer.Streaming.Sequences;

/// <summary>
/// Users' interaction sequences in Redis: a capped list per user plus, per user, the last Kafka offset applied from
/// each source partition. One Lua script appends and records that offset atomically, so a redelivered event
/// (rebalance, crash, retry after a timeout) changes nothing. Both keys of a user share the hash tag
/// <c>{prefix:user}</c>, so the script is valid on Redis Cluster. Every call goes through the Redis resilience pipeline.
/// </summary>
public sealed class SequenceStore
{
    // KEYS[1] = the sequence (list, newest last), KEYS[2] = applied offsets (hash: "topic:partition" -> offset).
    // ARGV[1] = source field, ARGV[2] = cap, ARGV[3] = idle TTL in seconds (0 = none),
    // ARGV[4..] = offset, entry pairs in offset order.
    private const string AppendScript = """
        local applied = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '-1')
        local appliedText = nil
        local appended = 0
        for i = 4, #ARGV, 2 do
          local offset = tonumber(ARGV[i])
          if offset > applied then
            redis.call('RPUSH', KEYS[1], ARGV[i + 1])
            applied = offset
            appliedText = ARGV[i]
            appended = appended + 1
          end
        end
        if appended > 0 then
          redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
          redis.call('HSET', KEYS[2], ARGV[1], appliedText)
        end
        local ttl = tonumber(ARGV[3])
        if ttl > 0 then
          redis.call('EXPIRE', KEYS[1], ttl)
          redis.call('EXPIRE', KEYS[2], ttl)
        end
        return { appended, redis.call('LLEN', KEYS[1]) }
        """;

    // KEYS[1] = the partitions hash ("topic:partition" -> "epoch:highest applied offset[:marker]"); ARGV[1] = field,
    // ARGV[2] = epoch, ARGV[3] = highest offset of this batch, ARGV[4] = the marker of the record at that offset ("" if
    // none). Only ever moves forward.
    private const string RecordPartitionScript = """
        local current = redis.call('HGET', KEYS[1], ARGV[1])
        local epoch, high = -1, -1
        if current then
          local e, h = string.match(current, '^(%-?%d+):(%-?%d+)')
          epoch, high = tonumber(e), tonumber(h)
        end
        local e, h = tonumber(ARGV[2]), tonumber(ARGV[3])
        if e > epoch or (e == epoch and h > high) then
          local value = ARGV[2] .. ':' .. ARGV[3]
          if ARGV[4] ~= '' then value = value .. ':' .. ARGV[4] end
          redis.call('HSET', KEYS[1], ARGV[1], value)
        end
        return 1
        """;

    private readonly IConnectionMultiplexer _redis;
    private readonly ResiliencePipeline _pipeline;
    private readonly string _prefix;
    private readonly int _maxLength;
    private readonly long _ttlSeconds;
    private readonly int _waitReplicas;
    private readonly long _waitMilliseconds;

    public SequenceStore(IConnectionMultiplexer redis, StreamingResilience resilience, IOptions<RedisOptions> redisOptions, IOptions<SequenceOptions> sequenceOptions)
    {
        _redis = redis;
        _pipeline = resilience.Redis;
        _prefix = redisOptions.Value.KeyPrefix;
        _maxLength = sequenceOptions.Value.MaxLength;
        _ttlSeconds = sequenceOptions.Value.IdleTtl is { } ttl && ttl > TimeSpan.Zero ? Math.Max(1, (long)Math.Ceiling(ttl.TotalSeconds)) : 0;
        _waitReplicas = redisOptions.Value.WaitReplicas;
        _waitMilliseconds = Math.Max(1, (long)redisOptions.Value.WaitTimeout.TotalMilliseconds);
    }

    public int MaxLength => _maxLength;

    public RedisKey SequenceKey(string userId) => $"{{{_prefix}:{userId}}}:seq";

    public RedisKey AppliedOffsetsKey(string userId) => $"{{{_prefix}:{userId}}}:applied";

    /// <summary>One hash per deployment: the <see cref="PartitionState"/> of every source partition.</summary>
    public RedisKey PartitionsKey => $"{_prefix}:partitions";

    /// <summary>
    /// Applies a batch: one script call per (user, source partition), all pipelined in one round trip; the whole batch
    /// is retried on transient failures, which is safe because each call is idempotent. Returns one outcome per user,
    /// in first-seen order. When this returns, every append is acknowledged by Redis, and by Redis:WaitReplicas replicas
    /// when that is set (WAIT on every primary after the writes; too few acknowledgements throw
    /// <see cref="ReplicaAcknowledgementException"/>, which the pipeline retries).
    /// </summary>
    public async Task<IReadOnlyList<AppendOutcome>> AppendAsync(IReadOnlyList<SequenceAppend> appends, CancellationToken cancellationToken = default)
    {
        if (appends.Count == 0) return [];
        var groups = appends
            .GroupBy(a => (a.UserId, a.Topic, a.Partition, a.Epoch))
            .Select(g => (g.Key, Items: g.OrderBy(a => a.Offset).ToArray()))
            .ToArray();
        var calls = groups.Select(g => (g.Key.UserId, Keys: new[] { SequenceKey(g.Key.UserId), AppliedOffsetsKey(g.Key.UserId) }, Args: Arguments(g.Key.Topic, g.Key.Partition, g.Key.Epoch, g.Items))).ToArray();
        var partitions = appends.GroupBy(a => (a.Topic, a.Partition, a.Epoch))
            .Select(g => g.MaxBy(a => a.Offset))
            .Select(a => new RedisValue[] { PartitionField(a.Topic, a.Partition), a.Epoch, a.Offset, a.Marker ?? "" })
            .ToArray();

        var results = await _pipeline.ExecuteAsync(async token =>
        {
            var db = _redis.GetDatabase();
            var pending = calls.Select(c => db.ScriptEvaluateAsync(AppendScript, c.Keys, c.Args)).ToArray();
            var recorded = partitions.Select(p => db.ScriptEvaluateAsync(RecordPartitionScript, new[] { PartitionsKey }, p)).ToArray();
            var replies = await Task.WhenAll(pending).WaitAsync(token).ConfigureAwait(false);
            await Task.WhenAll(recorded).WaitAsync(token).ConfigureAwait(false);
            if (_waitReplicas > 0) await WaitForReplicasAsync(token).ConfigureAwait(false);
            return replies;
        }, cancellationToken).ConfigureAwait(false);

        var byUser = new Dictionary<string, AppendOutcome>(StringComparer.Ordinal);
        var order = new List<string>();
        for (var i = 0; i < calls.Length; i++)
        {
            var reply = (RedisResult[])results[i]!;
            var appended = (int)reply[0];
            var length = (long)reply[1];
            if (byUser.TryGetValue(calls[i].UserId, out var previous))
                byUser[calls[i].UserId] = previous with { Appended = previous.Appended + appended, Length = length };
            else
            {
                byUser[calls[i].UserId] = new AppendOutcome(calls[i].UserId, appended, length);
                order.Add(calls[i].UserId);
            }
        }
        return order.Select(u => byUser[u]).ToArray();
    }

    /// <summary>
    /// WAIT on each primary: a connection's WAIT covers every write sent on it before, and the multiplexer sends all of
    /// a server's commands over one connection, so this covers the batch's scripts on that server.
    /// </summary>
    private async Task WaitForReplicasAsync(CancellationToken token)
    {
        var primaries = _redis.GetServers().Where(s => s.IsConnected && !s.IsReplica).ToArray();
        if (primaries.Length == 0) throw new ReplicaAcknowledgementException("No connected Redis primary to WAIT on.");
        var acks = await Task.WhenAll(primaries.Select(p => p.ExecuteAsync("WAIT", _waitReplicas, _waitMilliseconds))).WaitAsync(token).ConfigureAwait(false);
        for (var i = 0; i < primaries.Length; i++)
            if ((long)acks[i] < _waitReplicas)
                throw new ReplicaAcknowledgementException(
                    $"Only {(long)acks[i]} of Redis:WaitReplicas = {_waitReplicas} replicas of {primaries[i].EndPoint} acknowledged within {_waitMilliseconds} ms.");
    }

    public async Task<UserSequence> ReadAsync(string userId, CancellationToken cancellationToken = default) =>
        (await ReadManyAsync([userId], cancellationToken).ConfigureAwait(false))[0];

    /// <summary>Reads many users' sequences (oldest to newest) in one pipelined round trip, in the order given.</summary>
    public async Task<IReadOnlyList<UserSequence>> ReadManyAsync(IReadOnlyList<string> userIds, CancellationToken cancellationToken = default)
    {
        if (userIds.Count == 0) return [];
        var lists = await _pipeline.ExecuteAsync(async token =>
        {
            var db = _redis.GetDatabase();
            var pending = userIds.Select(u => db.ListRangeAsync(SequenceKey(u))).ToArray();
            return await Task.WhenAll(pending).WaitAsync(token).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);

        var sequences = new UserSequence[userIds.Count];
        for (var i = 0; i < userIds.Count; i++)
            sequences[i] = new UserSequence(userIds[i], Array.ConvertAll(lists[i], v => Decode(userIds[i], v)));
        return sequences;
    }

    /// <summary>The last offset applied for this user from this topic partition (in that epoch of its log), or null when none was.</summary>
    public async Task<long?> AppliedOffsetAsync(string userId, string topic, int partition, int epoch = 0, CancellationToken cancellationToken = default)
    {
        var value = await _pipeline.ExecuteAsync(async token =>
            await _redis.GetDatabase().HashGetAsync(AppliedOffsetsKey(userId), SourceField(topic, partition, epoch)).WaitAsync(token).ConfigureAwait(false),
            cancellationToken).ConfigureAwait(false);
        return value.IsNull ? null : (long)value;
    }

    /// <summary>The partition's epoch and highest applied offset (<see cref="PartitionState.None"/> when never applied).</summary>
    public async Task<PartitionState> PartitionAsync(string topic, int partition, CancellationToken cancellationToken = default)
    {
        var value = await _pipeline.ExecuteAsync(async token =>
            await _redis.GetDatabase().HashGetAsync(PartitionsKey, PartitionField(topic, partition)).WaitAsync(token).ConfigureAwait(false),
            cancellationToken).ConfigureAwait(false);
        if (value.IsNull) return PartitionState.None;
        var text = (string)value!;
        var parts = text.Split(':');
        return parts.Length is 2 or 3
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var epoch)
            && long.TryParse(parts[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var high)
            ? new PartitionState(epoch, high, parts.Length == 3 ? parts[2] : null)
            : throw new FormatException($"Partition state '{text}' of {topic}[{partition}] in {PartitionsKey} is not '<epoch>:<offset>[:<marker>]'.");
    }

    /// <summary>
    /// Identifies one Kafka record (SHA-256 of its key, value and timestamp, 16 bytes in hex): the same record read again
    /// has the same marker, the record a recreated topic holds at the same offset almost surely another.
    /// </summary>
    public static string RecordMarker(byte[]? key, byte[]? value, long timestampMs)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> header = stackalloc byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(header, timestampMs);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(header[8..], key?.Length ?? -1);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(header[12..], value?.Length ?? -1);
        hash.AppendData(header);
        if (key is not null) hash.AppendData(key);
        if (value is not null) hash.AppendData(value);
        return Convert.ToHexStringLower(hash.GetHashAndReset().AsSpan(0, 16));
    }

    /// <summary>Starts a new epoch of the partition's log: from now on its offsets are new, whatever users had applied before.</summary>
    public async Task<PartitionState> StartEpochAsync(string topic, int partition, int epoch, CancellationToken cancellationToken = default)
    {
        var state = new PartitionState(epoch, -1);
        await _pipeline.ExecuteAsync(async token =>
            await _redis.GetDatabase().HashSetAsync(PartitionsKey, PartitionField(topic, partition),
                $"{epoch.ToString(CultureInfo.InvariantCulture)}:-1").WaitAsync(token).ConfigureAwait(false),
            cancellationToken).ConfigureAwait(false);
        return state;
    }

    private RedisValue[] Arguments(string topic, int partition, int epoch, SequenceAppend[] items)
    {
        var args = new RedisValue[3 + 2 * items.Length];
        args[0] = SourceField(topic, partition, epoch);
        args[1] = _maxLength;
        args[2] = _ttlSeconds;
        for (var i = 0; i < items.Length; i++)
        {
            args[3 + 2 * i] = items[i].Offset;
            args[4 + 2 * i] = Encode(items[i]);
        }
        return args;
    }

    // Epoch 0 keeps the original field name, so offsets recorded before epochs existed still count.
    private static string SourceField(string topic, int partition, int epoch) =>
        epoch == 0 ? PartitionField(topic, partition) : $"{PartitionField(topic, partition)}#{epoch.ToString(CultureInfo.InvariantCulture)}";

    private static string PartitionField(string topic, int partition) => $"{topic}:{partition.ToString(CultureInfo.InvariantCulture)}";

    // "<epoch ms>:<item id>": the id may itself contain ':', so only the first one separates.
    private static string Encode(SequenceAppend a) =>
        $"{a.Timestamp.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}:{a.ItemId}";

    // Read from the stored UTF-8 bytes: the Scorer decodes every entry of every user in a batch, and a string of each
    // whole entry before the id's own was the largest single allocation on its path (docs/speed.md, 7 Dec late night).
    // ':' is one byte in UTF-8 and never part of another character's encoding, so the first ':' byte is the first ':'.
    private static SequenceEntry Decode(string userId, RedisValue value)
    {
        var bytes = ((ReadOnlyMemory<byte>)value).Span;
        var colon = bytes.IndexOf((byte)':');
        if (colon <= 0 || !long.TryParse(bytes[..colon], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var ms))
            throw new FormatException($"Sequence entry '{(string?)value}' of user '{userId}' is not '<epoch ms>:<item id>'.");
        return new SequenceEntry(Encoding.UTF8.GetString(bytes[(colon + 1)..]), DateTimeOffset.FromUnixTimeMilliseconds(ms));
    }
}
