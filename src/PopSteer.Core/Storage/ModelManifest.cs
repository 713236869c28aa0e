using System.Text.Json.Serialization;
using PopSteer.Core.Model;

namespace PopSteer.Core.Storage;

/// <summary>
/// manifest.json: everything needed to rebuild and trust a model directory. <see cref="Files"/> lists the SHA-256 of
/// every weight/statistics file; the manifest's own hash is the model <see cref="Version"/>, so the version names the
/// whole content.
/// </summary>
public sealed class ModelManifest
{
    public const int CurrentFormatVersion = 1;
    public const string FileName = "manifest.json";

    public int FormatVersion { get; set; } = CurrentFormatVersion;
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    /// <summary>Fingerprint of the sequences the model was trained on (<see cref="Data.SequenceDataset.Fingerprint"/>).</summary>
    public string DataFingerprint { get; set; } = string.Empty;
    /// <summary>External item ids in internal order: entry i-1 is internal id i.</summary>
    public List<string> Items { get; set; } = [];
    public SasRecConfig SasRec { get; set; } = new();
    public SaeConfig? Sae { get; set; }
    public AnalysisSettings? Analysis { get; set; }
    /// <summary>Every training hyperparameter that shaped the weights (optimiser, batch, epochs, seed...).</summary>
    public Dictionary<string, string> Training { get; set; } = [];
    /// <summary>Training and validation metrics (e.g. "sasrec.valid.ndcg@10", "sae.valid.fvu").</summary>
    public Dictionary<string, double> Metrics { get; set; } = [];
    /// <summary>Default steering knob chosen by `tune`; null until tuned.</summary>
    public SteeringDefaults? Steering { get; set; }
    /// <summary>file name -> lowercase SHA-256 hex.</summary>
    public SortedDictionary<string, string> Files { get; set; } = new(StringComparer.Ordinal);
    /// <summary>weight file -> parameter name -> shape; checked on load before any weight is read.</summary>
    public SortedDictionary<string, SortedDictionary<string, long[]>> Shapes { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Stable content id: first 16 hex digits of the SHA-256 of manifest.json as stored.</summary>
    [JsonIgnore]
    public string Version { get; internal set; } = string.Empty;
}

/// <summary>How the neuron statistics were computed (METHOD.md sections 4-5).</summary>
public sealed record AnalysisSettings
{
    public int Prefixes { get; init; } = 100_000;
    public double GroupShare { get; init; } = 0.2;
    public SyntheticUserMode Mode { get; init; } = SyntheticUserMode.Sample;
    public int Seed { get; init; } = 42;
}

/// <summary>How synthetic head/tail users are built from a real prefix.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SyntheticUserMode>))]
public enum SyntheticUserMode
{
    /// <summary>RecSys 2025: l items drawn uniformly with replacement from the group.</summary>
    Sample,
    /// <summary>2026 variant: each real item replaced by its most similar group item (item embedding dot product).</summary>
    NearestByEmbedding,
}

public sealed record SteeringDefaults(double Alpha, int Neurons);
