using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using PopSteer.Core.Model;
using PopSteer.Core.Scoring;
using PopSteer.Core.Storage;
using PopSteer.Core.Testing;
using PopSteer.Streaming.Registry;
using PopSteer.Streaming.Tests.Infrastructure;
using StackExchange.Redis;

namespace PopSteer.Streaming.Tests.Scoring;

/// <summary>
/// Signed manifests, forged versions and size bounds, against a real redis-server and the mock Kafka cluster with
/// tiny real model directories: what an attacker who can write to Redis can and cannot make a Scorer load.
/// </summary>
public sealed class ModelTrustTests(RedisServerFixture redis, KafkaFixture kafka)
    : IClassFixture<RedisServerFixture>, IClassFixture<KafkaFixture>, IDisposable
{
    private readonly ScratchDirectory _scratch = new();
    private readonly TestSettings _settings = new(kafka.BootstrapServers, redis.ConnectionString);
    private string? _privateKey, _publicKey;

    public void Dispose() => _scratch.Dispose();

    private RegistryKeys Keys => new(_settings["Redis:KeyPrefix"]);

    /// <summary>A key pair of this test's: the private half for publishing, the public half for reading.</summary>
    private (string Private, string Public) KeyPair()
    {
        if (_privateKey is null)
        {
            _privateKey = _scratch.Sub("signing.pem");
            _publicKey = _scratch.Sub("signing.pub.pem");
            ModelSigner.GenerateKeyPair(_privateKey, _publicKey);
        }
        return (_privateKey, _publicKey!);
    }

    private ServiceProvider Registry(params (string Key, string Value)[] registry)
    {
        var settings = new TestSettings(kafka.BootstrapServers, redis.ConnectionString);
        foreach (var (k, v) in _settings.Values) settings.Values[k] = v;
        foreach (var (k, v) in registry) settings.Values[k] = v;
        return new ServiceCollection().AddLogging().AddModelRegistry(settings.Build()).BuildServiceProvider();
    }

    private ServiceProvider Publisher() => Registry(("Registry:SigningKeyFile", KeyPair().Private));

    private ServiceProvider Reader() => Registry(("Registry:PublicKeyFile", KeyPair().Public));

    private string TinyModel(string name, int seed)
    {
        var dir = _scratch.Sub(name);
        TinyModelFactory.Create(dir, items: 30, seed: seed);
        return dir;
    }

    [Fact]
    public async Task A_signed_version_downloads_and_loads_with_the_public_key_and_a_rollback_onto_it_still_verifies()
    {
        using var publisher = Publisher();
        var a = await publisher.GetRequiredService<ModelRegistry>().PublishAsync(TinyModel("a", seed: 7));
        var b = await publisher.GetRequiredService<ModelRegistry>().PublishAsync(TinyModel("b", seed: 8));
        Assert.NotNull(a.SignedBy);
        Assert.Equal(a.SignedBy, (await publisher.GetRequiredService<ModelRegistry>().ListAsync()).Single(v => v.Version == a.Version).SignedBy);

        using var reader = Reader();
        var registry = reader.GetRequiredService<ModelRegistry>();
        Assert.True(registry.VerifiesSignatures);
        var target = _scratch.Sub("dl-b");
        Assert.Equal(b.Version, (await registry.DownloadAsync(b.Version, target)).Version);
        using (var model = PopSteerModel.Load(target)) Assert.Equal(b.Version, model.Version);

        // Rollback needs no private key: the signature is stored with the version.
        await registry.RollbackAsync(a.Version);
        Assert.Equal(a.Version, await registry.GetCurrentAsync());
        Assert.Equal(a.Version, (await registry.DownloadAsync(a.Version, _scratch.Sub("dl-a"))).Version);
    }

    [Fact]
    public async Task A_forged_manifest_with_rehashed_files_is_refused_when_a_public_key_is_configured()
    {
        using var publisher = Publisher();
        var genuine = await publisher.GetRequiredService<ModelRegistry>().PublishAsync(TinyModel("a", seed: 7));

        // The attack: change a weight file, put its new hash into the manifest, store the result as a new version
        // (its id is the new manifest's hash), keep the genuine signature file, and point `current` at it.
        var forged = await ForgeAsync(genuine.Version, keepSignature: true);

        using (var unverified = Registry())
        {
            // Without a public key the hashes all agree, so the forgery is accepted: this is what signing closes.
            Assert.Equal(forged, (await unverified.GetRequiredService<ModelRegistry>().DownloadAsync(forged, _scratch.Sub("open"))).Version);
        }

        using var reader = Reader();
        var target = _scratch.Sub("dl");
        var error = await Assert.ThrowsAsync<ModelRegistryException>(() => reader.GetRequiredService<ModelRegistry>().DownloadAsync(forged, target));
        Assert.Contains("signs manifest SHA-256", error.Message);
        Assert.False(Directory.Exists(target));

        // Re-signing with a key of the attacker's own does not help: it is not trusted.
        var resigned = await ForgeAsync(genuine.Version, keepSignature: false);
        error = await Assert.ThrowsAsync<ModelRegistryException>(() => reader.GetRequiredService<ModelRegistry>().DownloadAsync(resigned, target));
        Assert.Contains("not trusted", error.Message);
        Assert.False(Directory.Exists(target));
    }

    [Fact]
    public async Task An_unsigned_version_is_refused_when_a_public_key_is_configured()
    {
        using var unsigned = Registry();
        var info = await unsigned.GetRequiredService<ModelRegistry>().PublishAsync(TinyModel("a", seed: 7));
        Assert.Null(info.SignedBy);

        using var reader = Reader();
        var error = await Assert.ThrowsAsync<ModelRegistryException>(() => reader.GetRequiredService<ModelRegistry>().DownloadAsync(info.Version, _scratch.Sub("dl")));
        Assert.Contains("unsigned", error.Message);
    }

    [Fact]
    public async Task A_version_over_the_size_limit_is_refused_before_any_of_it_is_fetched()
    {
        using var publisher = Publisher();
        var info = await publisher.GetRequiredService<ModelRegistry>().PublishAsync(TinyModel("a", seed: 7));
        Assert.True(info.Bytes > 4096);

        using var small = Registry(("Registry:MaxVersionBytes", "4096"), ("Registry:PublicKeyFile", KeyPair().Public));
        var target = _scratch.Sub("dl");
        var error = await Assert.ThrowsAsync<ModelRegistryException>(() => small.GetRequiredService<ModelRegistry>().DownloadAsync(info.Version, target));
        Assert.Contains("Registry:MaxVersionBytes", error.Message);
        Assert.False(Directory.Exists(target));
        Assert.Empty(Directory.GetDirectories(_scratch.Path, "dl*"));
    }

    [Fact]
    public async Task A_signed_manifest_that_asks_for_huge_tensors_is_refused_before_they_are_allocated()
    {
        // A legitimate key signing a manifest whose SAE claims 4 M latents (1 GB of float32) over an 8 KB sae.bin.
        var dir = TinyModel("huge", seed: 7);
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, ModelManifest.FileName)))!;
        manifest["sae"]!["width"] = 4_000_000;
        File.WriteAllText(Path.Combine(dir, ModelManifest.FileName), manifest.ToJsonString());
        using var publisher = Publisher();
        var info = await publisher.GetRequiredService<ModelRegistry>().PublishAsync(dir);

        using var reader = Reader();
        var target = _scratch.Sub("dl");
        await reader.GetRequiredService<ModelRegistry>().DownloadAsync(info.Version, target); // hashes and signature are fine
        var error = Assert.Throws<ModelFormatException>(() => PopSteerModel.Load(target));
        Assert.Contains(ModelDirectory.SaeFile, error.Message);
        Assert.Contains("refused before allocating", error.Message);

        // Dimensions past the ceilings are refused as soon as the manifest is read.
        manifest["sasRec"]!["itemCount"] = 60_000_000;
        File.WriteAllText(Path.Combine(target, ModelManifest.FileName), manifest.ToJsonString());
        error = Assert.Throws<ModelFormatException>(() => ModelDirectory.ReadManifest(target));
        Assert.Contains("item count 60000000", error.Message);
    }

    [Fact]
    public void The_size_bounds_count_exactly_the_parameters_the_modules_allocate()
    {
        foreach (var config in new[]
        {
            new SasRecConfig { ItemCount = 30, Dim = 16, Blocks = 1, Heads = 2, FeedForward = 32, MaxLength = 10 },
            new SasRecConfig { ItemCount = 101, Dim = 24, Blocks = 3, Heads = 4, FeedForward = 40, MaxLength = 7 },
        })
        {
            using var sasRec = new SasRec(config);
            Assert.Equal(sasRec.state_dict().Values.Sum(t => t.numel()), ModelSizeBounds.SasRecParameters(config));
        }
        var sae = new SaeConfig { InputDim = 24, Width = 96, K = 8, KAux = 48 };
        using var module = new TopKSae(sae);
        Assert.Equal(module.state_dict().Values.Sum(t => t.numel()), ModelSizeBounds.SaeParameters(sae));
        // A real saved model passes its own bound.
        var dir = TinyModel("real", seed: 7);
        using var loaded = PopSteerModel.Load(dir);
        Assert.Equal(TinyModelFactory.SaeWidth, loaded.SaeWidth);
    }

    /// <summary>Rewrites a stored version as an attacker with write access to Redis would; returns the forged version id.</summary>
    private async Task<string> ForgeAsync(string version, bool keepSignature)
    {
        using var connection = redis.Connect();
        var db = connection.GetDatabase();
        var files = (await db.HashGetAllAsync(Keys.Files(version))).ToDictionary(e => e.Name.ToString(), e => (byte[])e.Value!);
        var weights = files[ModelDirectory.SasRecFile];
        weights[weights.Length / 2] ^= 0x5A;
        var manifest = JsonNode.Parse(files[ModelManifest.FileName])!;
        manifest["files"]![ModelDirectory.SasRecFile] = Convert.ToHexStringLower(SHA256.HashData(weights));
        var manifestBytes = System.Text.Encoding.UTF8.GetBytes(manifest.ToJsonString());
        files[ModelManifest.FileName] = manifestBytes;
        if (!keepSignature)
        {
            using var attackerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            using var attacker = ModelSigner.FromKey(attackerKey);
            files[ModelSignature.FileName] = attacker.Sign(manifestBytes).ToBytes();
        }
        var sha = ModelVersionId.Sha256Hex(manifestBytes);
        var forged = ModelVersionId.FromManifestSha(sha);
        await db.HashSetAsync(Keys.Files(forged), files.Select(f => new HashEntry(f.Key, f.Value)).ToArray());
        await db.HashSetAsync(Keys.Meta(forged), [new HashEntry("publishedAt", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), new HashEntry("manifestSha256", sha)]);
        await db.SortedSetAddAsync(Keys.Versions, forged, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        await db.StringSetAsync(Keys.Current, forged);
        return forged;
    }
}
