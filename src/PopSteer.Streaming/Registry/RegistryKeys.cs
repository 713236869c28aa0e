using StackExchange.Redis;

namespace PopSteer.Streaming.Registry;

/// <summary>
/// The registry's key layout. All keys share the hash tag <c>{prefix}</c>, so they live in one Redis Cluster slot
/// and a single Lua script may read and write all of them atomically.
/// <code>
/// {prefix}:current            string  version id the scorers serve
/// {prefix}:versions           zset    version id -> first publish time (unix ms)
/// {prefix}:v:{version}:meta   hash    publishedAt, manifestSha256, files, bytes
/// {prefix}:v:{version}:files  hash    file name -> file bytes (manifest.json included)
/// {prefix}:fence:{name}       string  highest fencing token a writer published with (see RegistryFence)
/// </code>
/// <c>prefix</c> is <c>Redis:KeyPrefix</c> followed by <c>:models</c> (default <c>{popsteer:models}</c>).
/// </summary>
public sealed class RegistryKeys(string redisKeyPrefix)
{
    private readonly string _tag = "{" + redisKeyPrefix + ":models}";

    public RedisKey Current => _tag + ":current";
    public RedisKey Versions => _tag + ":versions";
    public RedisKey Meta(string version) => $"{_tag}:v:{version}:meta";
    public RedisKey Files(string version) => $"{_tag}:v:{version}:files";
    public RedisKey Fence(string name) => $"{_tag}:fence:{name}";
}
