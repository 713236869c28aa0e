using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using PopSteer.Core.Storage;
using PopSteer.Streaming.Configuration;
using PopSteer.Streaming.Contracts;
using PopSteer.Streaming.Resilience;
using StackExchange.Redis;

namespace PopSteer.Streaming.Registry;

/// <summary>
/// Model versions in Redis: verified model directories stored by content, one atomically moved <c>current</c>
/// pointer, and an announcement on the models topic each time it moves. Layout: see <see cref="RegistryKeys"/>.
/// </summary>
public sealed class ModelRegistry
{
    // Stores the files, records the version once (first publish time wins) and moves `current`, all in one step:
    // a scorer that reads `current` always finds a complete version behind it. Re-publishing the same content
    // rewrites its files, which also heals a copy that was damaged in Redis.
    // With a fence (KEYS[5], token in the last ARGV) a token below the highest seen refuses the whole publish.
    private const string PublishScript = """
        local n = #ARGV
        if #KEYS == 5 then
          local mark = tonumber(redis.call('GET', KEYS[5]) or '0')
          if tonumber(ARGV[n]) < mark then return redis.error_reply('FENCED token ' .. ARGV[n] .. ' is below ' .. mark) end
          redis.call('SET', KEYS[5], ARGV[n])
          n = n - 1
        end
        redis.call('DEL', KEYS[1])
        for i = 6, n, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
        if redis.call('EXISTS', KEYS[2]) == 0 then
          redis.call('HSET', KEYS[2], 'publishedAt', ARGV[2], 'manifestSha256', ARGV[3], 'files', (n - 5) / 2, 'bytes', ARGV[4])
          redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
        end
        redis.call('HSET', KEYS[2], 'signedBy', ARGV[5])
        redis.call('SET', KEYS[4], ARGV[1])
        return redis.call('HGET', KEYS[2], 'publishedAt')
        """;

    // Deletes the named versions (KEYS[3..] = meta, files pairs), except the one `current` points at by now.
    private const string PruneScript = """
        local current = redis.call('GET', KEYS[2])
        local removed = 0
        for i = 1, #ARGV do
          if ARGV[i] ~= current then
            redis.call('DEL', KEYS[1 + 2 * i], KEYS[2 + 2 * i])
            removed = removed + redis.call('ZREM', KEYS[1], ARGV[i])
          end
        end
        return removed
        """;

    // Sizes a stored version without reading it: the number of files and their total length, names included.
    private const string SizeScript = """
        local n = redis.call('HLEN', KEYS[1])
        if n > tonumber(ARGV[1]) then return {n, -1} end
        local total = 0
        for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do total = total + #f + redis.call('HSTRLEN', KEYS[1], f) end
        return {n, total}
        """;

    // Re-points `current` only at a version that exists, in one step.
    private const string RollbackScript = """
        if redis.call('EXISTS', KEYS[1]) == 0 then return false end
        redis.call('SET', KEYS[2], ARGV[1])
        return redis.call('HGET', KEYS[1], 'manifestSha256')
        """;

    private readonly IConnectionMultiplexer _redis;
    private readonly ResiliencePipeline _pipeline;
    private readonly ModelAnnouncer? _announcer;
    private readonly ILogger<ModelRegistry> _logger;
    private readonly RegistryKeys _keys;
    private readonly RegistryOptions _options;
    private readonly Lazy<ModelSigner?> _signerLazy;
    private readonly Lazy<ModelSignatureVerifier?> _verifierLazy;

    /// <param name="registryOptions">Signing and trusted keys, retention, download bounds (section "Registry"); defaults when null.</param>
    /// <param name="announcer">Needed by <see cref="PublishAsync"/> and <see cref="RollbackAsync"/> only; reading needs no Kafka.</param>
    public ModelRegistry(
        IConnectionMultiplexer redis,
        StreamingResilience resilience,
        IOptions<RedisOptions> options,
        ILogger<ModelRegistry> logger,
        ModelAnnouncer? announcer = null,
        IOptions<RegistryOptions>? registryOptions = null)
    {
        _redis = redis;
        _pipeline = resilience.Redis;
        _announcer = announcer;
        _logger = logger;
        _keys = new RegistryKeys(options.Value.KeyPrefix);
        _options = registryOptions?.Value ?? new RegistryOptions();
        // Key files are read once, on first use (after the start-up validator has named a bad file): a rotation is a
        // rolling restart.
        var signing = _options.SigningKeyFile;
        var trusted = _options.PublicKeyFile;
        _signerLazy = new(() => string.IsNullOrWhiteSpace(signing) ? null : ModelSigner.FromPemFile(signing));
        _verifierLazy = new(() => string.IsNullOrWhiteSpace(trusted) ? null : ModelSignatureVerifier.FromPemFile(trusted));
    }

    private ModelSigner? Signer => _signerLazy.Value;
    private ModelSignatureVerifier? Verifier => _verifierLazy.Value;

    /// <summary>True when downloads require a signature by a trusted key (<c>Registry:PublicKeyFile</c> is set).</summary>
    public bool VerifiesSignatures => !string.IsNullOrWhiteSpace(_options.PublicKeyFile);

    private IDatabase Db => _redis.GetDatabase();

    /// <summary>
    /// Verifies <paramref name="modelDirectory"/> (SHA-256 of every file its manifest lists), signs its manifest when a
    /// signing key is configured, stores it as the version named by its content, points <c>current</c> at it,
    /// announces it, then prunes versions beyond <c>Registry:RetainVersions</c>.
    /// </summary>
    /// <exception cref="ModelRegistryException">The directory is not a valid model directory.</exception>
    public Task<ModelVersionInfo> PublishAsync(string modelDirectory, CancellationToken cancellationToken = default) =>
        PublishAsync(modelDirectory, null, cancellationToken);

    /// <param name="fence">A writer's fencing token (the Retrainer's lease): refused with <see cref="ModelRegistryException"/>
    /// when the registry has seen a higher token for this fence, so an instance that lost its lease cannot publish.</param>
    public async Task<ModelVersionInfo> PublishAsync(string modelDirectory, RegistryFence? fence, CancellationToken cancellationToken)
    {
        var announcer = _announcer ?? throw new InvalidOperationException("Publishing needs a ModelAnnouncer (Kafka) to announce the new version.");
        var dir = Path.GetFullPath(modelDirectory);
        ModelManifest manifest;
        try
        {
            manifest = ModelDirectory.Verify(dir);
        }
        catch (Exception e) when (e is ModelFormatException or IOException or UnauthorizedAccessException)
        {
            throw new ModelRegistryException($"Cannot publish '{dir}': {e.Message}", e);
        }

        var manifestBytes = await File.ReadAllBytesAsync(Path.Combine(dir, ModelVersionId.ManifestFileName), cancellationToken);
        var manifestSha = ModelVersionId.Sha256Hex(manifestBytes);
        var version = ModelVersionId.FromManifestSha(manifestSha);

        ModelSignature? signature;
        try
        {
            signature = Signer?.Sign(manifestBytes);
        }
        catch (ModelSignatureException e)
        {
            throw new ModelRegistryException($"Cannot publish '{dir}': Registry:SigningKeyFile: {e.Message}", e);
        }
        if (signature is null)
            _logger.LogWarning("Publishing {Version} unsigned: Registry:SigningKeyFile is not set, so Scorers with a Registry:PublicKeyFile will refuse it", version);

        var args = new List<RedisValue> { version, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), manifestSha, 0, signature?.KeyId ?? "" };
        long bytes = manifestBytes.Length;
        args.Add(ModelVersionId.ManifestFileName);
        args.Add(manifestBytes);
        if (signature is not null)
        {
            var signatureBytes = signature.ToBytes();
            bytes += signatureBytes.Length;
            args.Add(ModelSignature.FileName);
            args.Add(signatureBytes);
        }
        foreach (var name in manifest.Files.Keys.Order(StringComparer.Ordinal))
        {
            var content = await File.ReadAllBytesAsync(Path.Combine(dir, name), cancellationToken);
            bytes += content.Length;
            args.Add(name);
            args.Add(content);
        }
        args[3] = bytes;

        RedisKey[] keys = [_keys.Files(version), _keys.Meta(version), _keys.Versions, _keys.Current];
        int files = (args.Count - 5) / 2; // before the fence token joins the arguments
        if (fence is not null)
        {
            keys = [.. keys, _keys.Fence(fence.Name)];
            args.Add(fence.Token);
        }
        long publishedAtMs;
        try
        {
            publishedAtMs = (long)await _pipeline.ExecuteAsync(
                async _ => await Db.ScriptEvaluateAsync(PublishScript, keys, [.. args]),
                cancellationToken);
        }
        catch (RedisServerException e) when (e.Message.Contains("FENCED", StringComparison.Ordinal))
        {
            throw new ModelRegistryException($"Publish of {version} refused by fence '{fence?.Name}': {e.Message} (a newer writer holds the lease)", e);
        }
        var publishedAt = DateTimeOffset.FromUnixTimeMilliseconds(publishedAtMs);
        _logger.LogInformation("Published model {Version} ({Files} files, {Bytes} bytes, {Signed}) from {Directory}; current -> {Version}",
            version, files, bytes, signature is null ? "unsigned" : "signed by key " + signature.KeyId, dir, version);

        await announcer.AnnounceAsync(new ModelAnnouncement
        {
            Version = version,
            PublishedAt = publishedAt,
            ManifestSha256 = manifestSha,
            Reason = "publish",
        }, cancellationToken);
        if (_options.RetainVersions > 0)
        {
            try
            {
                await PruneAsync(_options.RetainVersions, cancellationToken);
            }
            catch (Exception e) when (e is RedisException or TimeoutException or Polly.Timeout.TimeoutRejectedException or Polly.CircuitBreaker.BrokenCircuitException)
            {
                // The version is published and announced; the old ones go at the next publish.
                _logger.LogWarning("Published {Version}, but pruning old versions failed ({Error}); they are pruned at the next publish", version, e.Message);
            }
        }
        return new ModelVersionInfo(version, publishedAt, manifestSha, files, bytes, IsCurrent: true, signature?.KeyId);
    }

    /// <summary>
    /// Deletes every version but the newest <paramref name="keep"/> by publish time and the one <c>current</c> points
    /// at (checked atomically, so a concurrent rollback onto a version is never undone). Returns the versions removed.
    /// Scorers that still serve a removed version keep serving it from memory; only new downloads of it fail.
    /// </summary>
    public async Task<IReadOnlyList<string>> PruneAsync(int keep, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(keep, 1);
        var stale = await _pipeline.ExecuteAsync(
            async _ => await Db.SortedSetRangeByRankAsync(_keys.Versions, 0, -keep - 1, Order.Ascending),
            cancellationToken);
        if (stale.Length == 0) return [];
        var keys = new List<RedisKey> { _keys.Versions, _keys.Current };
        foreach (var v in stale)
        {
            keys.Add(_keys.Meta(v.ToString()));
            keys.Add(_keys.Files(v.ToString()));
        }
        var removed = (long)await _pipeline.ExecuteAsync(
            async _ => await Db.ScriptEvaluateAsync(PruneScript, [.. keys], stale),
            cancellationToken);
        var current = await GetCurrentAsync(cancellationToken);
        var gone = stale.Select(v => v.ToString()).Where(v => v != current).ToArray();
        if (removed > 0)
            _logger.LogInformation("Pruned {Count} model versions beyond the newest {Keep}: {Versions}", removed, keep, string.Join(", ", gone));
        return gone;
    }

    /// <summary>Raises <paramref name="fence"/>'s mark to its token (never lowers it): from then on lower tokens cannot publish.</summary>
    public async Task RaiseFenceAsync(RegistryFence fence, CancellationToken cancellationToken = default) =>
        await _pipeline.ExecuteAsync(async _ => await Db.ScriptEvaluateAsync(RaiseFenceScript, [_keys.Fence(fence.Name)], [fence.Token]), cancellationToken);

    private const string RaiseFenceScript = """
        if tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
        return 1
        """;

    /// <summary>The version <c>current</c> points at, or null when nothing was ever published.</summary>
    public async Task<string?> GetCurrentAsync(CancellationToken cancellationToken = default)
    {
        var value = await _pipeline.ExecuteAsync(async _ => await Db.StringGetAsync(_keys.Current), cancellationToken);
        return value.IsNullOrEmpty ? null : value.ToString();
    }

    /// <summary>Every stored version, oldest first.</summary>
    public async Task<IReadOnlyList<ModelVersionInfo>> ListAsync(CancellationToken cancellationToken = default)
    {
        var current = await GetCurrentAsync(cancellationToken);
        var versions = await _pipeline.ExecuteAsync(
            async _ => await Db.SortedSetRangeByRankAsync(_keys.Versions, 0, -1, Order.Ascending),
            cancellationToken);
        // One pipelined round trip for every version's metadata.
        var metas = await _pipeline.ExecuteAsync(
            async _ => await Task.WhenAll(versions.Select(v => Db.HashGetAllAsync(_keys.Meta(v.ToString())))),
            cancellationToken);
        var result = new List<ModelVersionInfo>(versions.Length);
        for (int i = 0; i < versions.Length; i++)
        {
            var version = versions[i].ToString();
            var meta = metas[i].ToDictionary(e => e.Name.ToString(), e => e.Value);
            result.Add(new ModelVersionInfo(
                version,
                DateTimeOffset.FromUnixTimeMilliseconds((long)meta.GetValueOrDefault("publishedAt", 0)),
                meta.GetValueOrDefault("manifestSha256", RedisValue.EmptyString).ToString(),
                (int)meta.GetValueOrDefault("files", 0),
                (long)meta.GetValueOrDefault("bytes", 0),
                version == current,
                meta.GetValueOrDefault("signedBy", RedisValue.EmptyString) is { IsNullOrEmpty: false } by ? by.ToString() : null));
        }
        return result;
    }

    /// <summary>Points <c>current</c> back at a stored version and announces it.</summary>
    /// <exception cref="ModelRegistryException">The version is not in the registry.</exception>
    public async Task<ModelVersionInfo> RollbackAsync(string version, CancellationToken cancellationToken = default)
    {
        var announcer = _announcer ?? throw new InvalidOperationException("Rolling back needs a ModelAnnouncer (Kafka) to announce the version.");
        var result = await _pipeline.ExecuteAsync(
            async _ => await Db.ScriptEvaluateAsync(RollbackScript, [_keys.Meta(version), _keys.Current], [version]),
            cancellationToken);
        if (result.IsNull)
            throw new ModelRegistryException($"Model version '{version}' is not in the registry (run `popsteer models` to list the stored versions).");
        var info = (await ListAsync(cancellationToken)).Single(v => v.Version == version);
        _logger.LogInformation("Rolled back: current -> {Version}", version);
        await announcer.AnnounceAsync(new ModelAnnouncement
        {
            Version = version,
            PublishedAt = DateTimeOffset.UtcNow,
            ManifestSha256 = info.ManifestSha256,
            Reason = "rollback",
        }, cancellationToken);
        return info;
    }

    /// <summary>
    /// Writes a stored version's files into <paramref name="targetDirectory"/> and verifies them again: its size in
    /// Redis against <c>Registry:MaxVersionBytes</c> before anything is fetched, the manifest's full SHA-256 against
    /// the version id and the version's metadata, the signature when a public key is configured, then every file
    /// against the manifest. A corrupt, forged or oversize copy is refused and nothing is left behind; an existing
    /// target directory is replaced only by a verified copy.
    /// </summary>
    /// <returns>The verified manifest.</returns>
    /// <exception cref="ModelRegistryException">Unknown version, or the stored copy does not verify.</exception>
    public async Task<ModelManifest> DownloadAsync(string version, string targetDirectory, CancellationToken cancellationToken = default)
    {
        var target = Path.GetFullPath(targetDirectory);
        var size = (RedisResult[])(await _pipeline.ExecuteAsync(
            async _ => await Db.ScriptEvaluateAsync(SizeScript, [_keys.Files(version)], [_options.MaxVersionFiles]),
            cancellationToken))!;
        long count = (long)size[0], total = (long)size[1];
        if (count == 0)
            throw new ModelRegistryException($"Model version '{version}' is not in the registry (key {_keys.Files(version)} is empty).");
        if (total < 0)
            throw new ModelRegistryException($"Model version '{version}' is refused: it holds {count} files, over Registry:MaxVersionFiles = {_options.MaxVersionFiles}.");
        if (total > _options.MaxVersionBytes)
            throw new ModelRegistryException($"Model version '{version}' is refused: it holds {total:N0} bytes, over Registry:MaxVersionBytes = {_options.MaxVersionBytes:N0}.");
        var files = await _pipeline.ExecuteAsync(async _ => await Db.HashGetAllAsync(_keys.Files(version)), cancellationToken);
        if (files.Length == 0)
            throw new ModelRegistryException($"Model version '{version}' is not in the registry (key {_keys.Files(version)} is empty).");
        // It may have changed since it was sized (a publish rewrote it): check what was actually received too.
        long received = files.Sum(f => (long)((byte[])f.Name!).Length + (((byte[]?)f.Value)?.Length ?? 0));
        if (files.Length > _options.MaxVersionFiles || received > _options.MaxVersionBytes)
            throw new ModelRegistryException($"Model version '{version}' is refused: it grew to {files.Length} files, {received:N0} bytes while it was read.");
        var recorded = await _pipeline.ExecuteAsync(async _ => await Db.HashGetAsync(_keys.Meta(version), "manifestSha256"), cancellationToken);

        var staging = target + ".partial-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(staging);
        try
        {
            byte[]? manifestBytes = null, signatureBytes = null;
            foreach (var entry in files)
            {
                var name = entry.Name.ToString();
                if (name != Path.GetFileName(name) || name is "." or "..")
                    throw new ModelRegistryException($"Model version '{version}' is corrupt: stored file name '{name}' is not a plain file name.");
                byte[] content = entry.Value!;
                if (name == ModelVersionId.ManifestFileName) manifestBytes = content;
                if (name == ModelSignature.FileName) signatureBytes = content;
                await File.WriteAllBytesAsync(Path.Combine(staging, name), content, cancellationToken);
            }
            if (manifestBytes is null)
                throw new ModelRegistryException($"Model version '{version}' is corrupt: it has no {ModelVersionId.ManifestFileName}.");
            var manifestSha = ModelVersionId.Sha256Hex(manifestBytes);
            if (ModelVersionId.FromManifestSha(manifestSha) != version)
                throw new ModelRegistryException(
                    $"Model version '{version}' is corrupt: its stored {ModelVersionId.ManifestFileName} hashes to {manifestSha}, which is not this version.");
            // The id is only 64 bits of the hash: the full hash recorded at publish must match too.
            if (!recorded.IsNullOrEmpty && !string.Equals(recorded.ToString(), manifestSha, StringComparison.Ordinal))
                throw new ModelRegistryException(
                    $"Model version '{version}' is corrupt: its {ModelVersionId.ManifestFileName} hashes to {manifestSha}, but {recorded} was recorded when it was published.");
            if (Verifier is not null)
            {
                var problem = signatureBytes is null
                    ? $"it is unsigned (no {ModelSignature.FileName}) and Registry:PublicKeyFile requires a signature; publish it again with Registry:SigningKeyFile set"
                    : Verifier.Check(manifestBytes, signatureBytes);
                if (problem is not null) throw new ModelRegistryException($"Model version '{version}' is refused: {problem}.");
            }
            ModelManifest manifest;
            try
            {
                manifest = ModelDirectory.Verify(staging);
            }
            catch (ModelFormatException e)
            {
                // Name the file, not the temporary staging path it was checked in.
                var reason = e.Message.Replace(staging + Path.DirectorySeparatorChar, "", StringComparison.Ordinal);
                throw new ModelRegistryException($"Model version '{version}' is corrupt: {reason}", e);
            }

            if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
            Directory.Move(staging, target);
            return manifest;
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }
}
