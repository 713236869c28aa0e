using Microsoft.Extensions.DependencyInjection;
using PopSteer.Core.Storage;
using PopSteer.Core.Testing;
using PopSteer.Streaming.Contracts;
using PopSteer.Streaming.Registry;
using PopSteer.Streaming.Tests.Infrastructure;
using StackExchange.Redis;

namespace PopSteer.Streaming.Tests.Scoring;

/// <summary>The registry against a real redis-server and the mock Kafka cluster, with tiny real model directories.</summary>
public sealed class ModelRegistryTests(RedisServerFixture redis, KafkaFixture kafka)
    : IClassFixture<RedisServerFixture>, IClassFixture<KafkaFixture>, IDisposable
{
    private readonly ScratchDirectory _scratch = new();
    private readonly TestSettings _settings = new(kafka.BootstrapServers, redis.ConnectionString);

    public void Dispose() => _scratch.Dispose();

    private ServiceProvider Services() =>
        new ServiceCollection().AddLogging().AddModelRegistry(_settings.Build()).BuildServiceProvider();

    private string TinyModel(string name, int seed)
    {
        var dir = _scratch.Sub(name);
        TinyModelFactory.Create(dir, items: 30, seed: seed);
        return dir;
    }

    private RegistryKeys Keys => new(_settings["Redis:KeyPrefix"]);

    [Fact]
    public async Task Publish_stores_the_version_by_content_points_current_at_it_and_announces_it()
    {
        using var services = Services();
        var registry = services.GetRequiredService<ModelRegistry>();
        var dir = TinyModel("a", seed: 7);
        var manifest = ModelDirectory.Verify(dir);

        var info = await registry.PublishAsync(dir);

        Assert.Equal(manifest.Version, info.Version); // the registry's id is the model's own content id
        Assert.Equal(info.Version, await registry.GetCurrentAsync());
        var listed = Assert.Single(await registry.ListAsync());
        Assert.Equal(info with { PublishedAt = listed.PublishedAt }, listed);
        Assert.Equal(manifest.Files.Count + 1, listed.Files); // + manifest.json itself

        var announcements = KafkaTestClient.ConsumeValuesUntil(kafka.BootstrapServers, _settings["Kafka:Topics:Models"],
            ScorerJsonContext.Default.ModelAnnouncement, seen => seen.Count >= 1, TimeSpan.FromSeconds(30));
        var announced = Assert.Single(announcements);
        Assert.Equal(info.Version, announced.Version);
        Assert.Equal(info.ManifestSha256, announced.ManifestSha256);
        Assert.Equal("publish", announced.Reason);
        Assert.Equal(ModelVersionId.Sha256Hex(File.ReadAllBytes(Path.Combine(dir, "manifest.json"))), announced.ManifestSha256);
    }

    [Fact]
    public async Task Download_writes_every_file_byte_for_byte_and_verifies_them()
    {
        using var services = Services();
        var registry = services.GetRequiredService<ModelRegistry>();
        var dir = TinyModel("a", seed: 7);
        var info = await registry.PublishAsync(dir);

        var target = _scratch.Sub("download");
        var manifest = await registry.DownloadAsync(info.Version, target);

        Assert.Equal(info.Version, manifest.Version);
        var names = Directory.GetFiles(dir).Select(Path.GetFileName).Order().ToArray();
        Assert.Equal(names, Directory.GetFiles(target).Select(Path.GetFileName).Order().ToArray());
        foreach (var name in names)
            Assert.Equal(File.ReadAllBytes(Path.Combine(dir, name!)), File.ReadAllBytes(Path.Combine(target, name!)));
    }

    [Fact]
    public async Task A_version_whose_stored_file_was_tampered_with_is_refused_with_the_file_named_and_nothing_left_behind()
    {
        using var services = Services();
        var registry = services.GetRequiredService<ModelRegistry>();
        var info = await registry.PublishAsync(TinyModel("a", seed: 7));
        using (var connection = redis.Connect())
        {
            var db = connection.GetDatabase();
            var bytes = (byte[])(await db.HashGetAsync(Keys.Files(info.Version), ModelDirectory.SaeFile))!;
            bytes[^1] ^= 0xFF;
            await db.HashSetAsync(Keys.Files(info.Version), ModelDirectory.SaeFile, bytes);
        }

        var target = _scratch.Sub("download");
        var error = await Assert.ThrowsAsync<ModelRegistryException>(() => registry.DownloadAsync(info.Version, target));

        Assert.Contains(info.Version, error.Message);
        Assert.Contains(ModelDirectory.SaeFile, error.Message);
        Assert.False(Directory.Exists(target));
        Assert.Empty(Directory.GetDirectories(_scratch.Path, "download*"));

        // Publishing the same content again rewrites its files: the stored copy is whole again.
        await registry.PublishAsync(Path.Combine(_scratch.Path, "a"));
        Assert.Equal(info.Version, (await registry.DownloadAsync(info.Version, target)).Version);
    }

    [Fact]
    public async Task A_tampered_manifest_does_not_match_its_version_and_is_refused()
    {
        using var services = Services();
        var registry = services.GetRequiredService<ModelRegistry>();
        var info = await registry.PublishAsync(TinyModel("a", seed: 7));
        using (var connection = redis.Connect())
        {
            var db = connection.GetDatabase();
            var text = (string)(await db.HashGetAsync(Keys.Files(info.Version), "manifest.json"))!;
            await db.HashSetAsync(Keys.Files(info.Version), "manifest.json", text.Replace("\"formatVersion\"", " \"formatVersion\"", StringComparison.Ordinal));
        }

        var error = await Assert.ThrowsAsync<ModelRegistryException>(() => registry.DownloadAsync(info.Version, _scratch.Sub("d")));
        Assert.Contains("manifest.json", error.Message);
    }

    [Fact]
    public async Task Rollback_repoints_current_and_announces_it_and_an_unknown_version_is_refused()
    {
        using var services = Services();
        var registry = services.GetRequiredService<ModelRegistry>();
        var first = await registry.PublishAsync(TinyModel("a", seed: 7));
        var second = await registry.PublishAsync(TinyModel("b", seed: 8));
        Assert.NotEqual(first.Version, second.Version);
        Assert.Equal(second.Version, await registry.GetCurrentAsync());

        var rolled = await registry.RollbackAsync(first.Version);

        Assert.Equal(first.Version, rolled.Version);
        Assert.Equal(first.Version, await registry.GetCurrentAsync());
        var list = await registry.ListAsync();
        Assert.Equal([first.Version, second.Version], list.Select(v => v.Version));
        Assert.Equal([true, false], list.Select(v => v.IsCurrent));
        var announced = KafkaTestClient.ConsumeValuesUntil(kafka.BootstrapServers, _settings["Kafka:Topics:Models"],
            ScorerJsonContext.Default.ModelAnnouncement, seen => seen.Count >= 3, TimeSpan.FromSeconds(30));
        Assert.Equal([(first.Version, "publish"), (second.Version, "publish"), (first.Version, "rollback")],
            announced.Select(a => (a.Version, a.Reason)));

        var error = await Assert.ThrowsAsync<ModelRegistryException>(() => registry.RollbackAsync("0123456789abcdef"));
        Assert.Contains("0123456789abcdef", error.Message);
        Assert.Equal(first.Version, await registry.GetCurrentAsync());
    }

    [Fact]
    public async Task Publishing_a_directory_with_a_modified_file_is_refused_before_anything_is_stored()
    {
        using var services = Services();
        var registry = services.GetRequiredService<ModelRegistry>();
        var dir = TinyModel("a", seed: 7);
        var path = Path.Combine(dir, ModelDirectory.NeuronsFile);
        var bytes = File.ReadAllBytes(path);
        bytes[0] ^= 0x01;
        File.WriteAllBytes(path, bytes);

        var error = await Assert.ThrowsAsync<ModelRegistryException>(() => registry.PublishAsync(dir));

        Assert.Contains(ModelDirectory.NeuronsFile, error.Message);
        Assert.Null(await registry.GetCurrentAsync());
        Assert.Empty(await registry.ListAsync());
    }

    [Fact]
    public async Task Every_registry_key_shares_one_cluster_hash_tag()
    {
        using var services = Services();
        var registry = services.GetRequiredService<ModelRegistry>();
        await registry.PublishAsync(TinyModel("a", seed: 7));
        using var connection = redis.Connect();
        var server = connection.GetServer(connection.GetEndPoints()[0]);
        var keys = server.Keys(pattern: "{" + _settings["Redis:KeyPrefix"] + ":models}*").Select(k => (string)k!).ToArray();

        Assert.Equal(4, keys.Length); // current, versions, meta, files
        // Redis Cluster's own slot function: one slot means the publish script is legal on a cluster.
        Assert.Single(keys.Select(k => connection.HashSlot(k)).Distinct());
    }
}
