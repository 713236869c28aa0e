using System.Text.Json.Nodes;
using PopSteer.Streaming.Contracts;
using PopSteer.Streaming.Registry;
using StackExchange.Redis;

namespace PopSteer.Chaos;

/// <summary>
/// What an attacker with write access to Redis can do: take the serving version's files, change the weights
/// (one byte of sasrec.bin), recompute that file's SHA-256 in manifest.json, store the result as a new version
/// exactly as `publish` lays it out (every other stored entry, a signature included, carried over), point
/// <c>current</c> at it and announce it. A Scorer must never serve it.
/// </summary>
public static class ForgedModel
{
    public const string Weights = "sasrec.bin";

    /// <returns>The forged version id.</returns>
    public static async Task<string> PublishAsync(IDatabase db, string keyPrefix, ModelAnnouncer announcer, CancellationToken cancellationToken)
    {
        var keys = new RegistryKeys(keyPrefix);
        var current = (string?)await db.StringGetAsync(keys.Current) ?? throw new InvalidOperationException("Nothing is published: no current model to forge.");
        var files = (await db.HashGetAllAsync(keys.Files(current))).ToDictionary(e => e.Name.ToString(), e => ((byte[]?)e.Value)!, StringComparer.Ordinal);

        var weights = files[Weights];
        weights[weights.Length / 2] ^= 0x01;
        var manifest = JsonNode.Parse(files[ModelVersionId.ManifestFileName])!.AsObject();
        Child(manifest, "files")[Weights] = ModelVersionId.Sha256Hex(weights);
        Child(manifest, "training")["forgedBy"] = "chaos drill";
        var manifestBytes = System.Text.Encoding.UTF8.GetBytes(manifest.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        files[ModelVersionId.ManifestFileName] = manifestBytes;
        var manifestSha = ModelVersionId.Sha256Hex(manifestBytes);
        var version = ModelVersionId.FromManifestSha(manifestSha);

        // Whatever else the real version's metadata holds (a signature, a key id) is carried over, as a forger would.
        var now = DateTimeOffset.UtcNow;
        var meta = (await db.HashGetAllAsync(keys.Meta(current))).ToDictionary(e => e.Name.ToString(), e => e.Value, StringComparer.Ordinal);
        meta["publishedAt"] = now.ToUnixTimeMilliseconds();
        meta["manifestSha256"] = manifestSha;
        meta["files"] = files.Count;
        meta["bytes"] = files.Values.Sum(v => (long)v.Length);
        var transaction = db.CreateTransaction();
        _ = transaction.KeyDeleteAsync(keys.Files(version));
        _ = transaction.HashSetAsync(keys.Files(version), files.Select(f => new HashEntry(f.Key, f.Value)).ToArray());
        _ = transaction.HashSetAsync(keys.Meta(version), meta.Select(m => new HashEntry(m.Key, m.Value)).ToArray());
        _ = transaction.SortedSetAddAsync(keys.Versions, version, now.ToUnixTimeMilliseconds());
        _ = transaction.StringSetAsync(keys.Current, version);
        if (!await transaction.ExecuteAsync()) throw new InvalidOperationException("The forged publish transaction was not applied.");

        await announcer.AnnounceAsync(new ModelAnnouncement { Version = version, PublishedAt = now, ManifestSha256 = manifestSha, Reason = "publish" }, cancellationToken);
        return version;
    }

    /// <summary>A manifest section by name, whatever its casing.</summary>
    private static JsonObject Child(JsonObject parent, string name) =>
        parent.FirstOrDefault(p => string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase)).Value as JsonObject
        ?? throw new InvalidOperationException($"The stored manifest has no '{name}' section.");
}
