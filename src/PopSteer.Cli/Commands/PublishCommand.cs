using System.CommandLine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PopSteer.Streaming.Configuration;
using PopSteer.Streaming.Registry;
using PopSteer.Streaming.Resilience;
using StackExchange.Redis;

namespace PopSteer.Cli.Commands;

/// <summary>`popsteer publish --model DIR`: verify a model directory, store it as a new registry version, make it current, announce it.</summary>
internal static class PublishCommand
{
    public static Command Create()
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "Model directory (manifest.json and the files it lists).", Required = true };
        var redis = RedisOption();
        var bootstrap = BootstrapOption();
        var signingKey = new Option<FileInfo?>("--signing-key")
        {
            Description = "PEM file with the ECDSA P-256 private key that signs the manifest (default: Registry:SigningKeyFile; none = publish unsigned).",
        };
        var command = new Command("publish", "Store a verified model directory in the Redis registry, sign it, point `current` at it and announce it on Kafka.");
        command.Options.Add(model);
        command.Options.Add(redis);
        command.Options.Add(bootstrap);
        command.Options.Add(signingKey);
        command.SetAction(async (ParseResult r, CancellationToken ct) =>
        {
            using var session = RegistrySession.Open(r.GetValue(redis), r.GetValue(bootstrap), announce: true, r.GetValue(signingKey)?.FullName);
            var info = await session.Registry.PublishAsync(r.GetValue(model)!.FullName, ct);
            var signed = info.SignedBy is null ? "UNSIGNED" : $"signed by key {info.SignedBy}";
            Console.WriteLine($"Published {info.Version} ({info.Files} files, {info.Bytes:N0} bytes, manifest sha256 {info.ManifestSha256}, {signed}); current -> {info.Version}");
            return 0;
        });
        return command;
    }

    /// <summary>`popsteer keygen --private FILE --public FILE`: a fresh model-signing key pair (ECDSA P-256, PEM).</summary>
    public static Command CreateKeygen()
    {
        var privateKey = new Option<FileInfo>("--private") { Description = "Where to write the private key (PKCS#8 PEM, mode 600): a Secret for publishers only.", Required = true };
        var publicKey = new Option<FileInfo>("--public") { Description = "Where to write the public key (PEM): a Secret or ConfigMap for every Scorer (Registry:PublicKeyFile).", Required = true };
        var command = new Command("keygen", "Create an ECDSA P-256 key pair for signing model manifests.");
        command.Options.Add(privateKey);
        command.Options.Add(publicKey);
        command.SetAction((ParseResult r) =>
        {
            var priv = r.GetValue(privateKey)!.FullName;
            if (File.Exists(priv)) throw new InvalidOperationException($"{priv} exists; refusing to overwrite a signing key.");
            var id = ModelSigner.GenerateKeyPair(priv, r.GetValue(publicKey)!.FullName);
            Console.WriteLine($"Key {id}: private key {priv} (Registry:SigningKeyFile), public key {r.GetValue(publicKey)!.FullName} (Registry:PublicKeyFile)");
            return 0;
        });
        return command;
    }

    internal static Option<string?> RedisOption() =>
        new("--redis") { Description = "StackExchange.Redis connection string (default: Redis:Configuration from environment/config, else localhost:6379)." };

    internal static Option<string?> BootstrapOption() =>
        new("--bootstrap") { Description = "Kafka bootstrap servers host:port[,...] (default: Kafka:BootstrapServers from environment/config, else localhost:9092)." };
}

/// <summary>
/// The registry as the operational verbs use it: configuration from defaults, environment variables
/// (Redis__Configuration, Kafka__BootstrapServers, ...), $POPSTEER_CONFIG_DIR/popsteer.json, then the command's flags.
/// </summary>
internal sealed class RegistrySession : IDisposable
{
    private readonly ServiceProvider _services;

    private RegistrySession(ServiceProvider services, ModelRegistry registry)
    {
        _services = services;
        Registry = registry;
    }

    public ModelRegistry Registry { get; }

    public static RegistrySession Open(string? redis, string? bootstrap, bool announce, string? signingKeyFile = null)
    {
        var flags = new Dictionary<string, string?>();
        if (!string.IsNullOrWhiteSpace(redis)) flags["Redis:Configuration"] = redis;
        if (!string.IsNullOrWhiteSpace(bootstrap)) flags["Kafka:BootstrapServers"] = bootstrap;
        if (!string.IsNullOrWhiteSpace(signingKeyFile)) flags["Registry:SigningKeyFile"] = signingKeyFile;
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Redis:Configuration"] = "localhost:6379",
                ["Kafka:BootstrapServers"] = "localhost:9092",
            })
            .AddEnvironmentVariables()
            .AddPopSteerConfigDirectory()
            .AddInMemoryCollection(flags)
            .Build();
        var services = new ServiceCollection()
            .AddLogging(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning))
            .AddModelRegistry(configuration)
            .BuildServiceProvider();
        IOptions<RegistryOptions> registryOptions;
        try
        {
            registryOptions = Options.Create(services.GetRequiredService<IOptions<RegistryOptions>>().Value);
        }
        catch (OptionsValidationException e)
        {
            services.Dispose();
            throw new ModelRegistryException(e.Message, e);
        }
        // Reading needs no Kafka: only publish and rollback build the announcer (and its producer).
        var registry = new ModelRegistry(
            services.GetRequiredService<IConnectionMultiplexer>(),
            services.GetRequiredService<StreamingResilience>(),
            services.GetRequiredService<IOptions<RedisOptions>>(),
            services.GetRequiredService<ILogger<ModelRegistry>>(),
            announce ? services.GetRequiredService<ModelAnnouncer>() : null,
            registryOptions);
        return new RegistrySession(services, registry);
    }

    public void Dispose() => _services.Dispose();
}
