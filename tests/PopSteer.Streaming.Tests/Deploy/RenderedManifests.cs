using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace PopSteer.Streaming.Tests.Deploy;

/// <summary>
/// One kustomization rendered by <c>kubectl kustomize</c>, as JSON objects (every scalar a string, as YAML gives it),
/// with the lookups the checks need.
/// </summary>
internal sealed class RenderedManifests
{
    public static readonly string[] Kustomizations = ["base", "overlays/gpu", "overlays/keda", "overlays/production"];

    private RenderedManifests(string source, List<JsonObject> objects)
    {
        Source = source;
        Objects = objects;
    }

    /// <summary>The kustomization rendered ("base", "overlays/gpu", ...).</summary>
    public string Source { get; }

    public IReadOnlyList<JsonObject> Objects { get; }

    public static RenderedManifests Render(string kustomization)
    {
        var (_, yaml, _) = ExternalTool.Run("kubectl", ["kustomize", RepositoryRoot.Combine("deploy", "k8s", kustomization)]);
        var deserializer = new DeserializerBuilder().Build();
        var objects = new List<JsonObject>();
        var parser = new Parser(new StringReader(yaml));
        parser.Consume<StreamStart>();
        while (parser.Accept<DocumentStart>(out _))
        {
            if (ToJson(deserializer.Deserialize(parser)) is JsonObject document) objects.Add(document);
        }
        return new RenderedManifests(kustomization, objects);
    }

    /// <summary>YamlDotNet's untyped graph as JSON, every scalar a string (as YAML wrote it).</summary>
    public static JsonNode? ToJson(object? yaml) => yaml switch
    {
        null => null,
        IDictionary<object, object> map => new JsonObject(map.Select(kv => KeyValuePair.Create(kv.Key.ToString()!, ToJson(kv.Value)))),
        IList<object> list => new JsonArray(list.Select(ToJson).ToArray()),
        var scalar => JsonValue.Create(scalar.ToString()),
    };

    public IEnumerable<JsonObject> OfKind(params string[] kinds) => Objects.Where(o => kinds.Contains(Kind(o)));

    public JsonObject? Find(string kind, string name) => OfKind(kind).FirstOrDefault(o => Name(o) == name);

    /// <summary>Deployments and StatefulSets: the workloads.</summary>
    public IEnumerable<JsonObject> Workloads => OfKind("Deployment", "StatefulSet");

    public static string Kind(JsonObject o) => (string?)o["kind"] ?? "";

    public static string Name(JsonObject o) => (string?)o["metadata"]?["name"] ?? "";

    public static string Id(JsonObject o) => $"{Kind(o)}/{Name(o)}";

    public static JsonObject PodSpec(JsonObject o) => o["spec"]!["template"]!["spec"]!.AsObject();

    public static IEnumerable<JsonObject> Items(JsonNode? array) => array is JsonArray a ? a.OfType<JsonObject>() : [];

    /// <summary>Every container of a pod, init containers included.</summary>
    public static IEnumerable<JsonObject> Containers(JsonObject podSpec) => Items(podSpec["initContainers"]).Concat(Items(podSpec["containers"]));
}
