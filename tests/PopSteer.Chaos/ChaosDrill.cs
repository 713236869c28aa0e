using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PopSteer.Embedded;
using PopSteer.Streaming.DependencyInjection;
using PopSteer.Streaming.Kafka;
using PopSteer.Streaming.Registry;
using PopSteer.Streaming.Resilience;
using PopSteer.Streaming.Sequences;
using StackExchange.Redis;

namespace PopSteer.Chaos;

/// <summary>
/// The drill: a private redis-server (AOF, fsync always), the embedded broker, Ingest, Scorer and Retrainer
/// replicas as separate supervised OS processes; a known event set replayed while the seeded schedule injects
/// faults; then a drain and the check against ground truth (<see cref="DrillReport"/>).
/// </summary>
public sealed partial class ChaosDrill(DrillOptions options, TextWriter output)
{
    private const string KeyPrefix = "popsteer";
    private static readonly double[] AlphaChoices = [0, 0.5, 1, 2, 2.5, 3, 4];
    private static readonly Dictionary<string, string> NoEnvironment = [];

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<SupervisedProcess> _services = [];
    private readonly List<ExecutedFault> _injected = [];
    private readonly List<string> _incidents = [];
    private readonly Dictionary<string, DateTimeOffset> _scorerInstances = new(StringComparer.Ordinal);
    private readonly Random _rng = new(options.Seed * 7919 + 1);

    [GeneratedRegex(@"Scorer ([0-9a-f]{8}) waiting for a model")]
    private static partial Regex ScorerStarting();

    // ModelWatcher's line when a version goes into service: "Model {Version} loaded from the registry".
    [GeneratedRegex(@"Model ([0-9a-f]{16}) loaded")]
    private static partial Regex ModelLoaded();

    private readonly List<(string Scorer, string Version)> _modelLoads = [];

    public async Task<DrillReport> RunAsync(CancellationToken cancellationToken = default)
    {
        var layout = ServiceLayout.Find(options.RepositoryRoot, Directory.GetCurrentDirectory());
        layout.Verify();
        var work = options.WorkDirectory ?? Path.Combine(Path.GetTempPath(), $"popsteer-chaos-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{options.Seed}");
        Directory.CreateDirectory(work);
        Say($"work directory {work} (service logs: {work}/logs)");
        Directory.CreateDirectory(Path.Combine(work, "logs"));

        var (dataFile, modelDir) = await PrepareModelAsync(layout, work, cancellationToken);
        var replay = EventReplay.FromData(dataFile, options.Users, options.EventsPerUser, options.Seed);
        Say($"known event set: {replay.Events.Count} events of {replay.ByUser.Count} users from {dataFile}");

        // Redis: AOF with fsync on every write, supervised like the services (kill -9 restarts it on the same port).
        int redisPort = LocalRedisServer.FreeTcpPort();
        var redisDir = Path.Combine(work, "redis");
        Directory.CreateDirectory(redisDir);
        var redisExe = LocalRedisServer.FindExecutable()
            ?? throw new FileNotFoundException("redis-server is not installed (scripts/ensure-prereqs.sh installs it).", "redis-server");
        await using var redis = new SupervisedProcess("redis",
            new ProcessStartInfo(redisExe, ["--port", redisPort.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", redisDir, "--protected-mode", "no"]),
            Path.Combine(work, "logs", "redis.log"));
        redis.Start();
        await Loopback.WaitForRedisAsync(redisPort, TimeSpan.FromSeconds(20));
        var redisConnection = $"127.0.0.1:{redisPort},abortConnect=false,connectTimeout=5000,syncTimeout=5000,asyncTimeout=5000";

        await using var broker = await BrokerProcess.StartAsync(layout.Cli, Path.Combine(work, "logs", "broker.log"));
        Say($"redis-server on {redisPort} (pid {redis.Pid}), embedded Kafka at {broker.BootstrapServers}");

        var settings = SharedSettings(broker.BootstrapServers, redisConnection);
        await using var harness = new ServiceCollection()
            .AddLogging(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Critical))
            .AddPopSteerStreaming(new ConfigurationBuilder().AddInMemoryCollection(settings.Select(kv => KeyValuePair.Create(kv.Key, (string?)kv.Value))).Build())
            .BuildServiceProvider();
        var kafka = harness.GetRequiredService<KafkaClientFactory>();
        var multiplexer = harness.GetRequiredService<IConnectionMultiplexer>();

        var config = new ConfigFile(Path.Combine(work, "config"));
        config.WriteAlpha(2, null);

        var env = settings.ToDictionary(kv => kv.Key.Replace(":", "__", StringComparison.Ordinal), kv => kv.Value);
        env["POPSTEER_CONFIG_DIR"] = config.Directory;
        var signing = await CreateSigningKeysAsync(layout, work, cancellationToken);
        var publishEnv = new Dictionary<string, string>(env);
        if (signing is { } keyFiles) publishEnv["Registry__SigningKeyFile"] = keyFiles.Private;
        await RunCliAsync(layout, publishEnv, ["publish", "--model", modelDir, .. options.PublishArguments], TimeSpan.FromMinutes(2), cancellationToken);
        var served = (string?)await multiplexer.GetDatabase().StringGetAsync(new RegistryKeys(KeyPrefix).Current)
            ?? throw new InvalidOperationException("`popsteer publish` left no current model in the registry.");
        Say($"published model {served}");

        try
        {
            using var collector = new TopicCollector(kafka, kafka.Topics.Recommendations, kafka.Topics.DeadLetter);
            var replicas = StartServices(layout, env, work, signing);
            await WaitForServicesAsync(TimeSpan.FromSeconds(180), cancellationToken);
            Say(DescribeTopics(kafka));

            var plan = _plan = FaultSchedule.Plan(options, replicas);
            Say($"schedule (seed {options.Seed}): {plan.Count} faults over {options.Duration.TotalSeconds:F0} s");
            foreach (var p in plan) Say("  " + p);

            using var producer = kafka.CreateProducer<byte[], byte[]>(c =>
            {
                c.ClientId = "chaos-replay";
                c.MessageMaxBytes = 2_000_000;
            });
            var malformed = new List<SentMalformed>();
            string? forged = null;
            var started = DateTimeOffset.UtcNow;
            var replayTask = replay.RunAsync(producer, kafka.Topics.Interactions, options.Duration, cancellationToken);
            var background = new List<Task>();
            foreach (var fault in plan)
            {
                var wait = started + TimeSpan.FromSeconds(fault.AtSeconds) - DateTimeOffset.UtcNow;
                if (wait > TimeSpan.Zero) await Task.Delay(wait, cancellationToken);
                try
                {
                    var result = await InjectAsync(fault, redis, producer, kafka, multiplexer, harness.GetRequiredService<StreamingResilience>(), config, malformed, background, cancellationToken);
                    forged ??= result;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    _incidents.Add($"could not inject {fault}: {e.Message}");
                    Say($"could not inject {fault}: {e.Message}");
                }
            }
            await replayTask;
            await Task.WhenAll(background);
            Say($"replay done: {replay.Events.Count(e => e.Delivered)}/{replay.Events.Count} events acknowledged; draining");

            var store = harness.GetRequiredService<SequenceStore>();
            var users = replay.ByUser.Keys.ToArray();
            var drain = Stopwatch.StartNew();
            bool drained = false;
            IReadOnlyDictionary<string, IReadOnlyList<long>> sequences = new Dictionary<string, IReadOnlyList<long>>();
            while (true)
            {
                sequences = await ReadSequencesAsync(store, users);
                var recommendations = ParseRecommendations(collector.Snapshot(kafka.Topics.Recommendations));
                var letters = ParseDeadLetters(collector.Snapshot(kafka.Topics.DeadLetter)).Select(d => (d.Topic, d.Partition, d.Offset)).ToHashSet();
                bool allLettered = malformed.All(m => m.DeliveryError is not null || letters.Contains((m.Topic, m.Partition, m.Offset)));
                if (allLettered && CaughtUp(replay, sequences, recommendations)) { drained = true; break; }
                if (drain.Elapsed > options.DrainTimeout) break;
                await Task.Delay(2000, cancellationToken);
            }
            // A little longer, so a crash loop or a late duplicate still shows.
            await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
            sequences = await ReadSequencesAsync(store, users);
            Say(drained ? $"caught up {drain.Elapsed.TotalSeconds:F0} s after the replay" : $"NOT caught up after {drain.Elapsed.TotalSeconds:F0} s");

            var down = _services.Append(redis).Where(s => s.Pid is null).Select(s => s.Name).ToList();
            var observations = new DrillObservations
            {
                Options = options,
                Replay = replay,
                Injected = _injected.ToArray(),
                Recommendations = ParseRecommendations(collector.Snapshot(kafka.Topics.Recommendations)),
                DeadLetters = ParseDeadLetters(collector.Snapshot(kafka.Topics.DeadLetter)),
                Malformed = malformed,
                Sequences = sequences,
                ConfigWrites = config.Writes,
                ScorerInstances = new Dictionary<string, DateTimeOffset>(_scorerInstances),
                Exits = [],
                ServedVersion = served,
                ForgedVersion = forged,
            ForgedLoads = forged is null ? [] : _modelLoads.Where(l => l.Version == forged).Select(l => l.Scorer).ToArray(),
                Signed = signing is not null,
                DownAtEnd = down,
                Incidents = _incidents.ToArray(),
                Drain = drain.Elapsed,
                Drained = drained,
            };

            Say("stopping the services (SIGTERM)");
            await Task.WhenAll(_services.Select(s => s.StopAsync(TimeSpan.FromSeconds(30))));
            var exits = _services.Append(redis).SelectMany(s => s.Exits).OrderBy(e => e.ExitedAt).ToArray();
            var report = new DrillReport(observations with { Exits = exits });
            await File.WriteAllTextAsync(Path.Combine(work, "exits.txt"), string.Join('\n', exits.Select(e =>
                $"{e.ExitedAt:HH:mm:ss.fff} {e.Name} pid {e.Pid} up {(e.ExitedAt - e.StartedAt).TotalSeconds:F1} s exit {e.ExitCode} {e.Cause ?? "CRASH"}\n    " + e.LastLines.Replace("\n", "\n    ", StringComparison.Ordinal))), cancellationToken);
            return report;
        }
        finally
        {
            // Whatever happened, no child process outlives the drill.
            foreach (var service in _services) await service.DisposeAsync();
        }
    }

    private async Task<string?> InjectAsync(FaultInjection fault, SupervisedProcess redis, IProducer<byte[], byte[]> producer, KafkaClientFactory kafka,
        IConnectionMultiplexer multiplexer, StreamingResilience resilience, ConfigFile config, List<SentMalformed> malformed, List<Task> background, CancellationToken ct)
    {
        var at = DateTimeOffset.UtcNow;
        string detail;
        string? forged = null;
        switch (fault.Kind)
        {
            case FaultKind.KillIngest or FaultKind.KillScorer or FaultKind.KillRetrainer:
            {
                var target = _services.Single(s => s.Name == fault.Target);
                detail = target.Signal(UnixSignal.KILL, "kill -9") ? "killed" : "was down already";
                break;
            }
            case FaultKind.TermIngest or FaultKind.TermScorer or FaultKind.TermRetrainer:
            {
                var target = _services.Single(s => s.Name == fault.Target);
                int? pid = target.Pid;
                detail = target.Signal(UnixSignal.TERM, "SIGTERM") ? "terminated" : "was down already";
                if (pid is { } p) background.Add(WatchTermAsync(target, p));
                break;
            }
            case FaultKind.PauseRedis:
            {
                // In the background, so the schedule keeps time: faults may overlap, as they would in production.
                var pause = TimeSpan.FromSeconds(5 + _rng.NextDouble() * 5);
                redis.Signal(UnixSignal.STOP, "SIGSTOP");
                background.Add(Task.Run(async () =>
                {
                    try { await Task.Delay(pause, ct); }
                    finally { redis.Signal(UnixSignal.CONT, "SIGCONT"); }
                }, CancellationToken.None));
                detail = $"paused {pause.TotalSeconds:F1} s";
                break;
            }
            case FaultKind.KillRedis:
                detail = redis.Signal(UnixSignal.KILL, "kill -9") ? "killed" : "was down already";
                break;
            case FaultKind.MalformedBurst:
            {
                var kinds = MalformedMessages.All(_anyItem).Where(k => options.IncludePendingMalformed || k.PendingFix is null).ToArray();
                var sends = kinds.Select(async k =>
                {
                    try
                    {
                        var r = await producer.ProduceAsync(kafka.Topics.Interactions, new Message<byte[], byte[]> { Key = k.Key!, Value = k.Payload }, ct);
                        return new SentMalformed(k, r.Topic, r.Partition.Value, r.Offset.Value, null);
                    }
                    catch (ProduceException<byte[], byte[]> e)
                    {
                        return new SentMalformed(k, kafka.Topics.Interactions, -1, -1, e.Error.Reason);
                    }
                }).ToArray();
                malformed.AddRange(await Task.WhenAll(sends));
                detail = $"{kinds.Length} kinds";
                break;
            }
            case FaultKind.ForgedModel:
            {
                using var announcer = new ModelAnnouncer(kafka, resilience);
                forged = await Retry(() => ForgedModel.PublishAsync(multiplexer.GetDatabase(), KeyPrefix, announcer, ct), ct);
                detail = $"forged version {forged} is current";
                break;
            }
            case FaultKind.ConfigTypo or FaultKind.ConfigBrokenJson or FaultKind.AlphaInvalid:
            {
                config.WriteFault(fault.Kind, NextAlpha(config.CurrentAlpha));
                var restored = NextAlpha(config.CurrentAlpha);
                var hold = HoldFor(fault);
                background.Add(Task.Run(async () =>
                {
                    await Task.Delay(hold, ct);
                    config.WriteAlpha(restored, fault.Kind);
                }, CancellationToken.None));
                detail = $"held {hold.TotalSeconds:F1} s, then alpha {restored}";
                break;
            }
            case FaultKind.AlphaEdit:
            {
                var alpha = NextAlpha(config.CurrentAlpha);
                config.WriteAlpha(alpha, FaultKind.AlphaEdit);
                detail = $"alpha -> {alpha}";
                break;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(fault), fault.Kind, "unknown fault");
        }
        lock (_injected) _injected.Add(new ExecutedFault(at, fault.Kind, fault.Target, detail));
        Say($"{Faults.Label(fault.Kind)}{(fault.Target is null ? "" : $" ({fault.Target})")}: {detail}");
        return forged;
    }

    /// <summary>A SIGTERM must end the process in time; one that hangs is killed and reported.</summary>
    private async Task WatchTermAsync(SupervisedProcess target, int pid)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(40);
        while (DateTime.UtcNow < deadline)
        {
            if (target.Pid != pid) return;
            await Task.Delay(250);
        }
        lock (_injected) _incidents.Add($"{target.Name} pid {pid} did not stop within 40 s of SIGTERM (killed)");
        target.Signal(UnixSignal.KILL, "kill -9 after a hung SIGTERM");
    }

    /// <summary>A bad file stays <see cref="DrillOptions.ConfigFaultHold"/>, but never into the next config fault's slot.</summary>
    private TimeSpan HoldFor(FaultInjection fault)
    {
        var next = _plan.FirstOrDefault(f => f.AtSeconds > fault.AtSeconds && Faults.IsConfig(f.Kind));
        var room = next is null ? options.ConfigFaultHold : TimeSpan.FromSeconds((next.AtSeconds - fault.AtSeconds) * 0.8);
        return room < options.ConfigFaultHold ? room : options.ConfigFaultHold;
    }

    private IReadOnlyList<FaultInjection> _plan = [];

    private double NextAlpha(double current)
    {
        var choices = AlphaChoices.Where(a => Math.Abs(a - current) > 1e-9).ToArray();
        return choices[_rng.Next(choices.Length)];
    }

    /// <summary>An item the model knows, for malformed events that would otherwise be valid.</summary>
    private string _anyItem = "i1";

    private Dictionary<string, string> SharedSettings(string bootstrap, string redisConnection)
    {
        var s = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["Kafka:BootstrapServers"] = bootstrap,
            ["Redis:Configuration"] = redisConnection,
            ["Redis:KeyPrefix"] = KeyPrefix,
            // The mock cluster hands a departed member's partitions on only after its session times out.
            ["Kafka:Consumer:session.timeout.ms"] = "6000",
            ["Kafka:Consumer:heartbeat.interval.ms"] = "500",
            ["Resilience:Redis:BaseDelay"] = "00:00:00.100",
            ["Resilience:Redis:MaxDelay"] = "00:00:01",
            ["Resilience:Redis:AttemptTimeout"] = "00:00:05",
            ["Resilience:Redis:BreakDuration"] = "00:00:01",
        };
        return s;
    }

    private Dictionary<string, IReadOnlyList<string>> StartServices(ServiceLayout layout, Dictionary<string, string> shared, string work, (string Private, string Public)? signing)
    {
        var replicas = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        void Add(string service, int count, Func<int, Dictionary<string, string>> extra)
        {
            var names = new List<string>();
            for (int i = 1; i <= count; i++)
            {
                var name = $"{service}-{i}";
                var start = new ProcessStartInfo("dotnet", [layout.Dll(service)]) { WorkingDirectory = Path.GetDirectoryName(layout.Dll(service))! };
                foreach (var (k, v) in shared) start.Environment[k] = v;
                start.Environment["Logging__Console__FormatterName"] = "simple";
                start.Environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
                start.Environment["Logging__LogLevel__Microsoft"] = "Warning";
                start.Environment["Metrics__Port"] = "0";
                foreach (var (k, v) in extra(i)) start.Environment[k] = v;
                foreach (var (k, v) in options.ServiceEnvironment) start.Environment[k] = v;
                var process = new SupervisedProcess(name, start, Path.Combine(work, "logs", name + ".log"), Observe);
                _services.Add(process);
                process.Start();
                names.Add(name);
            }
            replicas[service] = names;
        }
        Add("ingest", options.IngestReplicas, _ => []);
        Add("scorer", options.ScorerReplicas, i =>
        {
            var env = new Dictionary<string, string>
            {
                ["Scoring__ModelCacheDirectory"] = Path.Combine(work, $"scorer-{i}-models"),
                ["Scoring__TorchThreads"] = "1",
                ["Scoring__ModelPollInterval"] = "00:00:05",
            };
            if (signing is { } k) env["Registry__PublicKeyFile"] = k.Public;
            return env;
        });
        if (options.Retrainer)
            Add("retrainer", 1, _ =>
            {
                var env = new Dictionary<string, string>
                {
                    ["Retrainer__WorkDirectory"] = Path.Combine(work, "retrainer"),
                    // The drill checks serving under faults, not refits: never refit during it.
                    ["Retrainer__MinEventsBetweenRefits"] = "1000000000",
                    ["Retrainer__CheckpointInterval"] = "00:00:02",
                };
                if (signing is { } k) env["Registry__SigningKeyFile"] = k.Private;
                return env;
            });
        return replicas;
    }

    private readonly HashSet<string> _ready = new(StringComparer.Ordinal);

    private void Observe(string name, string line)
    {
        if (ScorerStarting().Match(line) is { Success: true } m)
            lock (_scorerInstances) _scorerInstances[m.Groups[1].Value] = DateTimeOffset.UtcNow;
        if (ModelLoaded().Match(line) is { Success: true } loaded)
            lock (_modelLoads) _modelLoads.Add((name, loaded.Groups[1].Value));
        if (line.Contains("consuming", StringComparison.Ordinal) || line.Contains("Application started", StringComparison.Ordinal))
            lock (_ready) _ready.Add(name);
    }

    private async Task WaitForServicesAsync(TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            string[] waiting;
            lock (_ready) waiting = _services.Select(s => s.Name).Where(n => !_ready.Contains(n)).ToArray();
            if (waiting.Length == 0) break;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"services not up within {timeout.TotalSeconds:F0} s: {string.Join(", ", waiting)} (see their logs)");
            await Task.Delay(500, ct);
        }
        // Let the consumer groups settle their first assignment.
        await Task.Delay(TimeSpan.FromSeconds(5), ct);
        Say($"services up: {string.Join(", ", _services.Select(s => $"{s.Name} (pid {s.Pid})"))}");
    }

    /// <summary>The mock cluster creates topics on first use; this reports how many partitions the work topics got.</summary>
    private string DescribeTopics(KafkaClientFactory kafka)
    {
        using var admin = kafka.CreateAdmin();
        var t = kafka.Topics;
        return string.Join(", ", new[] { t.Interactions, t.UsersChanged }.Select(name =>
        {
            try { return $"{name}: {admin.GetMetadata(name, TimeSpan.FromSeconds(10)).Topics.Single().Partitions.Count} partitions"; }
            catch (KafkaException e) { return $"{name}: {e.Error.Reason}"; }
        }));
    }

    private async Task<(string Data, string Model)> PrepareModelAsync(ServiceLayout layout, string work, CancellationToken ct)
    {
        if (options.ModelDirectory is { } given)
        {
            var data = options.DataFile ?? throw new ArgumentException("--model needs --data (the events replayed must be the model's items).");
            _anyItem = FirstItem(data);
            return (data, given);
        }
        int users = Math.Max(options.Users * 2, 200), items = 200, rows = users * 25;
        var cache = Path.Combine(options.CacheDirectory, $"seed{options.Seed}-u{users}-i{items}-n{rows}");
        Directory.CreateDirectory(cache);
        var dataFile = options.DataFile ?? Path.Combine(cache, "data.csv");
        var model = Path.Combine(cache, "model");
        if (options.DataFile is null && !File.Exists(dataFile))
            await RunCliAsync(layout, NoEnvironment, ["generate", "--users", $"{users}", "--items", $"{items}", "--interactions", $"{rows}", "--out", dataFile, "--seed", $"{options.Seed}"], TimeSpan.FromMinutes(2), ct);
        if (!File.Exists(Path.Combine(model, "manifest.json")) || !File.Exists(Path.Combine(model, "neurons.bin")))
        {
            Say($"fitting the drill's model once (cached in {model}) ...");
            await RunCliAsync(layout, NoEnvironment, ["fit", "--data", dataFile, "--out", model, "--seed", $"{options.Seed}", "--epochs", "2", "--sae-epochs", "2", "--prefixes", "2000", "--threads", "1"], TimeSpan.FromMinutes(20), ct);
        }
        _anyItem = FirstItem(dataFile);
        return (dataFile, model);
    }

    /// <summary>
    /// A model-signing key pair from `popsteer keygen` when the CLI has it: the model is then published signed, the
    /// Scorers get the public key, and a forged version must be refused. Without it the drill runs unsigned.
    /// </summary>
    private async Task<(string Private, string Public)?> CreateSigningKeysAsync(ServiceLayout layout, string work, CancellationToken ct)
    {
        var keys = Path.Combine(work, "keys");
        Directory.CreateDirectory(keys);
        var (priv, pub) = (Path.Combine(keys, "signing.pem"), Path.Combine(keys, "public.pem"));
        try
        {
            await RunCliAsync(layout, NoEnvironment, ["keygen", "--private", priv, "--public", pub], TimeSpan.FromMinutes(1), ct);
            return (priv, pub);
        }
        catch (InvalidOperationException)
        {
            Say("this CLI has no `keygen`: models are published unsigned");
            return null;
        }
    }

    private static string FirstItem(string dataFile) => PopSteer.Core.Data.InteractionReader.Read(dataFile)[0].ItemId;

    private async Task RunCliAsync(ServiceLayout layout, IReadOnlyDictionary<string, string> env, string[] args, TimeSpan timeout, CancellationToken ct)
    {
        var start = new ProcessStartInfo("dotnet", [layout.Cli, .. args]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (k, v) in env) start.Environment[k] = v;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        try { await process.WaitForExitAsync(limit.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"popsteer {args[0]} did not finish within {timeout.TotalMinutes:F0} min.");
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"popsteer {string.Join(' ', args)} exited with {process.ExitCode}: {await stderr}{await stdout}");
        Say($"popsteer {args[0]}: {(await stdout).Trim().Split('\n').LastOrDefault()}");
    }

    private static async Task<T> Retry<T>(Func<Task<T>> action, CancellationToken ct)
    {
        for (int attempt = 1; ; attempt++)
        {
            try { return await action(); }
            catch (Exception e) when (attempt < 30 && e is RedisException or TimeoutException or KafkaException
                                         or Polly.CircuitBreaker.BrokenCircuitException or Polly.Timeout.TimeoutRejectedException)
            {
                await Task.Delay(1000, ct);
            }
        }
    }

    private static async Task<IReadOnlyDictionary<string, IReadOnlyList<long>>> ReadSequencesAsync(SequenceStore store, string[] users)
    {
        var result = new Dictionary<string, IReadOnlyList<long>>(StringComparer.Ordinal);
        foreach (var chunk in users.Chunk(200))
        {
            var read = await Retry(() => store.ReadManyAsync(chunk), CancellationToken.None);
            foreach (var s in read) result[s.UserId] = s.Entries.Select(e => e.Timestamp.ToUnixTimeMilliseconds()).ToArray();
        }
        return result;
    }

    private static bool CaughtUp(EventReplay replay, IReadOnlyDictionary<string, IReadOnlyList<long>> sequences, IReadOnlyList<SeenRecommendation> recommendations)
    {
        var latest = recommendations.GroupBy(r => r.UserId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Max(r => r.EventTimestampMs ?? 0), StringComparer.Ordinal);
        foreach (var (user, events) in replay.ByUser)
        {
            var delivered = events.Where(e => e.Delivered).ToArray();
            if (delivered.Length == 0) continue;
            if (!sequences.TryGetValue(user, out var s) || s.Count < delivered.Length) return false;
            if (latest.GetValueOrDefault(user) < delivered[^1].TimestampMs) return false;
        }
        return true;
    }

    private static List<SeenRecommendation> ParseRecommendations(IEnumerable<CollectedMessage> messages)
    {
        var list = new List<SeenRecommendation>();
        foreach (var m in messages)
        {
            try
            {
                using var doc = JsonDocument.Parse(m.Value);
                var r = doc.RootElement;
                long? ts = r.TryGetProperty("eventTimestamp", out var t) && t.ValueKind == JsonValueKind.String ? t.GetDateTimeOffset().ToUnixTimeMilliseconds() : null;
                list.Add(new SeenRecommendation(
                    r.GetProperty("userId").GetString()!,
                    r.GetProperty("modelVersion").GetString()!,
                    r.GetProperty("alpha").GetDouble(),
                    r.GetProperty("generatedAt").GetDateTimeOffset(),
                    ts,
                    r.TryGetProperty("batchId", out var b) ? b.GetString() : null)
                {
                    EnqueuedAt = r.TryGetProperty("enqueuedAt", out var q) && q.ValueKind == JsonValueKind.String ? q.GetDateTimeOffset() : null,
                });
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                // Not a recommendation the drill can read: counted nowhere, so it cannot hide a loss.
            }
        }
        return list;
    }

    private static List<SeenDeadLetter> ParseDeadLetters(IEnumerable<CollectedMessage> messages)
    {
        var list = new List<SeenDeadLetter>();
        foreach (var m in messages)
        {
            try
            {
                using var doc = JsonDocument.Parse(m.Value);
                var r = doc.RootElement;
                string Text(string name) => r.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";
                long Number(string name) => r.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : -1;
                list.Add(new SeenDeadLetter(Text("topic"), (int)Number("partition"), Number("offset"), Text("code"), Text("reason"), Text("source")));
            }
            catch (JsonException)
            {
            }
        }
        return list;
    }

    private void Say(string message)
    {
        lock (output) output.WriteLine($"[{_clock.Elapsed.TotalSeconds,6:F1}s] {message}");
    }
}
