using System.ComponentModel.DataAnnotations;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using static PopSteer.Streaming.Tests.Deploy.RenderedManifests;

namespace PopSteer.Streaming.Tests.Deploy;

/// <summary>
/// deploy/k8s as a platform team would review it: the base and every overlay render with `kubectl kustomize`, and on
/// every rendering each workload has probes, resources, a restricted securityContext and pinned images; every Secret
/// and ConfigMap it references exists with the key it reads; every ConfigMap key is one the services bind.
/// </summary>
public sealed class ManifestTests
{
    private static readonly Lazy<Dictionary<string, RenderedManifests>> All = new(() =>
        Kustomizations.ToDictionary(k => k, Render));

    private static readonly string[] Services = ["ingest", "scorer", "retrainer"];

    public static TheoryData<string> Renderings => new(Kustomizations);

    private static RenderedManifests Rendered(string kustomization) => All.Value[kustomization];

    [KubectlTheory]
    [MemberData(nameof(Renderings))]
    public void Every_workload_has_probes_resources_a_restricted_security_context_and_pinned_images(string kustomization)
    {
        var rendered = Rendered(kustomization);
        var problems = new List<string>();
        Assert.Equal(5, rendered.Workloads.Count()); // kafka, redis, ingest, scorer, retrainer
        foreach (var workload in rendered.Workloads.Concat(rendered.OfKind("Job")))
        {
            var id = Id(workload);
            var pod = PodSpec(workload);
            var podSecurity = pod["securityContext"];
            if ((string?)podSecurity?["runAsNonRoot"] != "true") problems.Add($"{id}: pod securityContext.runAsNonRoot is not true");
            if ((string?)podSecurity?["seccompProfile"]?["type"] != "RuntimeDefault") problems.Add($"{id}: seccompProfile is not RuntimeDefault");
            if (podSecurity?["runAsUser"] is null) problems.Add($"{id}: no numeric runAsUser (runAsNonRoot cannot check a user name)");
            if ((string?)pod["automountServiceAccountToken"] != "false") problems.Add($"{id}: mounts a service-account token it never uses");
            foreach (var container in Containers(pod))
            {
                var c = $"{id} container {(string?)container["name"]}";
                var image = (string?)container["image"] ?? "";
                var tag = image.Contains('@', StringComparison.Ordinal) ? "digest" : image[(image.LastIndexOf('/') + 1)..].Split(':').ElementAtOrDefault(1);
                if (string.IsNullOrEmpty(tag) || tag.StartsWith("latest", StringComparison.OrdinalIgnoreCase)) problems.Add($"{c}: image '{image}' is not pinned");
                var security = container["securityContext"];
                if ((string?)security?["allowPrivilegeEscalation"] != "false") problems.Add($"{c}: allowPrivilegeEscalation is not false");
                if ((string?)security?["readOnlyRootFilesystem"] != "true") problems.Add($"{c}: readOnlyRootFilesystem is not true");
                if (security?["capabilities"]?["drop"] is not JsonArray drop || !drop.Any(d => (string?)d == "ALL")) problems.Add($"{c}: capabilities do not drop ALL");
                var resources = container["resources"];
                foreach (var (part, key) in new[] { ("requests", "cpu"), ("requests", "memory"), ("limits", "memory") })
                    if (resources?[part]?[key] is null) problems.Add($"{c}: no resources.{part}.{key}");
            }
            foreach (var volume in Items(pod["volumes"]))
                if (volume["emptyDir"] is JsonObject emptyDir && emptyDir["sizeLimit"] is null) problems.Add($"{id}: emptyDir '{(string?)volume["name"]}' has no sizeLimit");
            if (Kind(workload) == "Job") continue;
            foreach (var container in Items(pod["containers"]))
                foreach (var probe in new[] { "startupProbe", "readinessProbe", "livenessProbe" })
                    if (container[probe] is null) problems.Add($"{id} container {(string?)container["name"]}: no {probe}");
        }
        Assert.True(problems.Count == 0, $"{kustomization}:\n" + string.Join('\n', problems));
    }

    [KubectlTheory]
    [MemberData(nameof(Renderings))]
    public void The_services_are_probed_on_their_health_endpoints_and_the_scorer_may_take_long_to_start(string kustomization)
    {
        var rendered = Rendered(kustomization);
        foreach (var name in Services)
        {
            var container = Items(PodSpec(rendered.Find("Deployment", name)!)["containers"]).Single();
            Assert.Equal("/healthz", (string?)container["livenessProbe"]!["httpGet"]!["path"]);
            Assert.Equal("/readyz", (string?)container["readinessProbe"]!["httpGet"]!["path"]);
            var port = (string?)container["livenessProbe"]!["httpGet"]!["port"];
            Assert.Contains(Items(container["ports"]), p => (string?)p["name"] == port && (string?)p["containerPort"] == "9464");
        }
        var scorerStartup = Items(PodSpec(rendered.Find("Deployment", "scorer")!)["containers"]).Single()["startupProbe"]!;
        Assert.Equal("/readyz", (string?)scorerStartup["httpGet"]!["path"]);
        var window = int.Parse((string)scorerStartup["periodSeconds"]!) * int.Parse((string)scorerStartup["failureThreshold"]!);
        Assert.True(window >= 600, $"the Scorer's startup window ({window} s) is too short for a model download");
    }

    [KubectlTheory]
    [MemberData(nameof(Renderings))]
    public void Every_secret_and_config_map_reference_resolves_in_the_rendered_output(string kustomization)
    {
        var rendered = Rendered(kustomization);
        var problems = new List<string>();
        Dictionary<string, HashSet<string>> Keys(string kind) => rendered.OfKind(kind).ToDictionary(Name, o =>
            new HashSet<string>(new[] { o["data"], o["stringData"] }.OfType<JsonObject>().SelectMany(d => d.Select(kv => kv.Key)), StringComparer.Ordinal));
        var secrets = Keys("Secret");
        var configMaps = Keys("ConfigMap");
        void Check(string where, string kind, Dictionary<string, HashSet<string>> existing, string? name, string? key)
        {
            if (name is null) problems.Add($"{where}: a {kind} reference without a name");
            else if (!existing.TryGetValue(name, out var keys)) problems.Add($"{where}: {kind} '{name}' is not in the rendered output");
            else if (key is not null && !keys.Contains(key)) problems.Add($"{where}: {kind} '{name}' has no key '{key}'");
        }
        foreach (var workload in rendered.Workloads.Concat(rendered.OfKind("Job")))
        {
            var pod = PodSpec(workload);
            foreach (var container in Containers(pod))
            {
                var where = $"{Id(workload)} container {(string?)container["name"]}";
                foreach (var env in Items(container["env"]))
                {
                    if (env["valueFrom"]?["secretKeyRef"] is { } s) Check(where, "Secret", secrets, (string?)s["name"], (string?)s["key"]);
                    if (env["valueFrom"]?["configMapKeyRef"] is { } c) Check(where, "ConfigMap", configMaps, (string?)c["name"], (string?)c["key"]);
                }
                foreach (var from in Items(container["envFrom"]))
                {
                    if (from["secretRef"] is { } s) Check(where, "Secret", secrets, (string?)s["name"], null);
                    if (from["configMapRef"] is { } c) Check(where, "ConfigMap", configMaps, (string?)c["name"], null);
                }
                foreach (var mount in Items(container["volumeMounts"]))
                    if (!Items(pod["volumes"]).Concat(Items(workload["spec"]!["volumeClaimTemplates"]).Select(t => t["metadata"]!.AsObject()))
                            .Any(v => (string?)v["name"] == (string?)mount["name"]))
                        problems.Add($"{where}: mounts volume '{(string?)mount["name"]}' that the pod does not declare");
            }
            foreach (var volume in Items(pod["volumes"]))
            {
                var where = $"{Id(workload)} volume {(string?)volume["name"]}";
                if (volume["secret"] is { } s)
                {
                    Check(where, "Secret", secrets, (string?)s["secretName"], null);
                    foreach (var item in Items(s["items"])) Check(where, "Secret", secrets, (string?)s["secretName"], (string?)item["key"]);
                }
                if (volume["configMap"] is { } c) Check(where, "ConfigMap", configMaps, (string?)c["name"], null);
            }
        }
        Assert.True(problems.Count == 0, $"{kustomization}:\n" + string.Join('\n', problems));
    }

    [KubectlTheory]
    [MemberData(nameof(Renderings))]
    public void Every_config_map_key_is_one_the_services_bind_and_its_value_passes_their_validation(string kustomization)
    {
        var rendered = Rendered(kustomization);
        var problems = new List<string>();
        var file = (string)rendered.Find("ConfigMap", "popsteer-config")!["data"]!["popsteer.json"]!;
        var configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(file))).Build();
        var keys = configuration.AsEnumerable().Where(kv => kv.Value is not null).Select(kv => kv.Key).ToList();
        Assert.Contains("Steering:Alpha", keys);

        // Environment variables of the shared ConfigMap: Section__Key, except the few the process itself reads.
        string[] processVariables = ["POPSTEER_CONFIG_DIR"];
        var env = rendered.Find("ConfigMap", "popsteer-env")!["data"]!.AsObject();
        foreach (var (name, _) in env)
        {
            if (processVariables.Contains(name)) continue;
            if (!name.Contains("__", StringComparison.Ordinal)) problems.Add($"popsteer-env '{name}' is neither a configuration key (Section__Key) nor a known process variable");
            else keys.Add(name.Replace("__", ":", StringComparison.Ordinal));
        }
        problems.AddRange(keys.Select(OptionsCatalog.Unbound).OfType<string>());

        // The values must bind and validate as the services' ValidateOnStart would.
        foreach (var section in keys.Select(k => k.Split(':')[0]).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            if (!OptionsCatalog.Sections.TryGetValue(section, out var types)) continue;
            var merged = new ConfigurationBuilder()
                .AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(file)))
                .AddInMemoryCollection(env.Select(kv => KeyValuePair.Create(kv.Key.Replace("__", ":", StringComparison.Ordinal), (string?)kv.Value)))
                .Build();
            foreach (var type in types)
            {
                var options = Activator.CreateInstance(type)!;
                try
                {
                    merged.GetSection(section).Bind(options);
                }
                catch (InvalidOperationException e)
                {
                    problems.Add($"section {section} does not bind into {type.Name}: {e.Message}");
                    continue;
                }
                var errors = new List<ValidationResult>();
                if (!Validator.TryValidateObject(options, new ValidationContext(options), errors, validateAllProperties: true))
                    problems.AddRange(errors.Select(e => $"section {section} ({type.Name}): {e.ErrorMessage}"));
            }
        }
        Assert.True(problems.Count == 0, $"{kustomization}:\n" + string.Join('\n', problems));
    }

    [KubectlFact]
    public void Kafka_keeps_its_logs_in_a_subdirectory_with_replication_3_and_min_insync_2_spread_over_nodes()
    {
        var kafka = Rendered("base").Find("StatefulSet", "kafka")!;
        var pod = PodSpec(kafka);
        var container = Items(pod["containers"]).Single();
        var env = Items(container["env"]).Where(e => e["value"] is not null).ToDictionary(e => (string)e["name"]!, e => (string)e["value"]!);
        var dataMount = (string)Items(container["volumeMounts"]).Single(m => (string?)m["name"] == "data")["mountPath"]!;
        Assert.StartsWith(dataMount + "/", env["KAFKA_LOG_DIRS"]);
        Assert.Equal("3", env["KAFKA_DEFAULT_REPLICATION_FACTOR"]);
        Assert.Equal("2", env["KAFKA_MIN_INSYNC_REPLICAS"]);
        Assert.Equal("false", env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"]);
        Assert.NotNull(pod["securityContext"]!["fsGroup"]);
        Assert.Equal("kubernetes.io/hostname",
            (string?)Items(pod["affinity"]!["podAntiAffinity"]!["requiredDuringSchedulingIgnoredDuringExecution"]).Single()["topologyKey"]);
        var topics = (string)Items(PodSpec(Rendered("base").Find("Job", "create-topics")!)["containers"]).Single()["args"]![0]!;
        Assert.Contains("--if-not-exists", topics);
        Assert.Contains("--replication-factor 3", topics);
        Assert.Contains("min.insync.replicas=2", topics);
    }

    [KubectlFact]
    public void Redis_requires_auth_from_the_secret_keeps_an_aof_and_never_evicts()
    {
        var rendered = Rendered("base");
        var config = (string)rendered.Find("ConfigMap", "redis-config")!["data"]!["redis.conf"]!;
        Assert.Contains("appendonly yes", config);
        Assert.Contains("maxmemory-policy noeviction", config);
        Assert.Matches(@"(?m)^maxmemory \d+[kmg]b$", config);
        var redis = Items(PodSpec(rendered.Find("StatefulSet", "redis")!)["containers"]).Single();
        Assert.Contains("requirepass \"$REDIS_PASSWORD\"", (string)redis["args"]![0]!);
        Assert.Equal("popsteer-redis", (string?)Items(redis["env"]).Single(e => (string?)e["name"] == "REDIS_PASSWORD")["valueFrom"]!["secretKeyRef"]!["name"]);
        foreach (var name in Services)
        {
            var env = Items(Items(PodSpec(rendered.Find("Deployment", name)!)["containers"]).Single()["env"]).ToList();
            Assert.Contains("password=$(REDIS_PASSWORD)", (string)env.Single(e => (string?)e["name"] == "Redis__Configuration")["value"]!);
        }
    }

    [KubectlTheory]
    [MemberData(nameof(Renderings))]
    public void Kafka_ingest_and_scorer_have_disruption_budgets_and_spread_and_network_policies_guard_kafka_redis_and_metrics(string kustomization)
    {
        var rendered = Rendered(kustomization);
        foreach (var app in new[] { "kafka", "ingest", "scorer" })
        {
            Assert.Contains(rendered.OfKind("PodDisruptionBudget"), b => (string?)b["spec"]!["selector"]!["matchLabels"]!["app"] == app);
            var pod = PodSpec(rendered.Workloads.Single(w => Name(w) == app));
            Assert.True(pod["topologySpreadConstraints"] is JsonArray { Count: > 0 } || pod["affinity"]?["podAntiAffinity"] is not null, $"{app} is not spread");
        }
        var policies = rendered.OfKind("NetworkPolicy").ToList();
        Assert.Contains(policies, p => p["spec"]!["podSelector"]!.AsObject().Count == 0 && p["spec"]!["ingress"] is null); // default deny
        Assert.Contains(policies, p => (string?)p["spec"]!["podSelector"]!["matchLabels"]?["app"] == "kafka");
        Assert.Contains(policies, p => (string?)p["spec"]!["podSelector"]!["matchLabels"]?["app"] == "redis");
        var metrics = policies.Single(p => (string?)p["spec"]!["podSelector"]!["matchLabels"]?["popsteer.io/metrics"] == "true");
        Assert.Equal("9464", (string?)Items(Items(metrics["spec"]!["ingress"]).Single()["ports"]).Single()["port"]);
        // Every service carries the labels the policies select on.
        foreach (var name in Services)
        {
            var labels = rendered.Find("Deployment", name)!["spec"]!["template"]!["metadata"]!["labels"]!;
            foreach (var label in new[] { "popsteer.io/kafka-client", "popsteer.io/redis-client", "popsteer.io/metrics" })
                Assert.Equal("true", (string?)labels[label]);
        }
    }

    [KubectlFact]
    public void The_scorer_autoscales_on_cpu_in_the_base_and_on_lag_with_keda_never_both()
    {
        var hpa = Rendered("base").Find("HorizontalPodAutoscaler", "scorer")!;
        Assert.Equal("cpu", (string?)Items(hpa["spec"]!["metrics"]).Single()["resource"]!["name"]);
        Assert.Equal("12", (string?)hpa["spec"]!["maxReplicas"]);
        var keda = Rendered("overlays/keda");
        Assert.Empty(keda.OfKind("HorizontalPodAutoscaler"));
        var scaled = keda.Find("ScaledObject", "scorer")!;
        var trigger = Items(scaled["spec"]!["triggers"]).Single();
        Assert.Equal("kafka", (string?)trigger["type"]);
        Assert.Equal("popsteer.users.changed", (string?)trigger["metadata"]!["topic"]);
    }

    [KubectlFact]
    public void Production_encrypts_and_authenticates_kafka_and_redis_and_mounts_the_model_key_as_a_file()
    {
        var rendered = Rendered("overlays/production");
        foreach (var name in Services)
        {
            var container = Items(PodSpec(rendered.Find("Deployment", name)!)["containers"]).Single();
            var env = Items(container["env"]).ToDictionary(e => (string)e["name"]!);
            Assert.Equal("SASL_SSL", (string?)env["Kafka__Client__security.protocol"]["value"]);
            Assert.NotNull(env["Kafka__Client__sasl.password"]["valueFrom"]!["secretKeyRef"]);
            Assert.Contains("ssl=true", (string)env["Redis__Configuration"]["value"]!);
            if (name == "ingest") continue;
            // Registry:PublicKeyFile names a file inside a mounted Secret volume, never a value in the environment.
            var keyFile = (string)env["Registry__PublicKeyFile"]["value"]!;
            var mount = Items(container["volumeMounts"]).Where(m => keyFile.StartsWith((string)m["mountPath"]! + "/", StringComparison.Ordinal))
                .MaxBy(m => ((string)m["mountPath"]!).Length)!;
            var volume = Items(PodSpec(rendered.Find("Deployment", name)!)["volumes"]).Single(v => (string?)v["name"] == (string?)mount["name"]);
            Assert.Equal("popsteer-model-signing", (string?)volume["secret"]!["secretName"]);
        }
        var redisArgs = (string)Items(PodSpec(rendered.Find("StatefulSet", "redis")!)["containers"]).Single()["args"]![0]!;
        Assert.Contains("port 0", redisArgs);
        Assert.Contains("tls-port 6379", redisArgs);
        var kafkaEnv = Items(Items(PodSpec(rendered.Find("StatefulSet", "kafka")!)["containers"]).Single()["env"]).ToDictionary(e => (string)e["name"]!);
        Assert.Equal("SASL_SSL", (string?)kafkaEnv["KAFKA_INTER_BROKER_LISTENER_NAME"]["value"]);
        Assert.DoesNotContain("PLAINTEXT", (string)kafkaEnv["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"]["value"]!);
    }
}
