using System.Security.Cryptography;
using System.Text.Json;
using PopSteer.Core.Data;
using PopSteer.Core.Model;
using PopSteer.Core.Steering;
using TorchSharp;
using static TorchSharp.torch;

namespace PopSteer.Core.Storage;

/// <summary>
/// The product's model format: a directory with manifest.json, sasrec.bin, sae.bin, neurons.bin and groups.json.
/// A directory may be partial while `fit` runs stage by stage (SASRec only, then + SAE, then + neurons);
/// the manifest lists exactly the files present and is written last, so a crash never leaves a manifest that
/// promises a file that was not finished.
/// </summary>
public static class ModelDirectory
{
    public const string SasRecFile = "sasrec.bin";
    public const string SaeFile = "sae.bin";
    public const string NeuronsFile = "neurons.bin";
    public const string GroupsFile = "groups.json";

    private static readonly string[] KnownFiles = [SasRecFile, SaeFile, NeuronsFile, GroupsFile];

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
    };

    /// <summary>
    /// Writes the given parts and a manifest listing their hashes and shapes. <paramref name="manifest"/> supplies the
    /// metadata (fingerprint, training settings, metrics, analysis settings, steering defaults); its Items, SasRec,
    /// Sae, Files and Shapes are filled in here. Files of parts not given are removed so nothing stale stays behind.
    /// </summary>
    public static ModelManifest Save(string directory, ModelManifest manifest, ItemVocabulary items, SasRec sasRec,
        TopKSae? sae = null, NeuronStats? neurons = null, PopularityGroups? groups = null)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        if (sasRec.Config.ItemCount != items.Count)
            throw new ArgumentException($"SASRec has {sasRec.Config.ItemCount} items but the vocabulary {items.Count}.");
        if (neurons is not null && sae is null) throw new ArgumentException("Neuron statistics need the SAE they describe.");
        if (neurons is not null && neurons.Width != sae!.Width)
            throw new ArgumentException($"Neuron statistics have {neurons.Width} neurons but the SAE {sae.Width}.");
        if (groups is not null && groups.ItemCount != items.Count)
            throw new ArgumentException($"Popularity groups cover {groups.ItemCount} items but the vocabulary {items.Count}.");

        Directory.CreateDirectory(directory);
        // The old manifest goes first: from here until the new one is written the directory is visibly incomplete.
        File.Delete(Path.Combine(directory, ModelManifest.FileName));
        foreach (var f in KnownFiles) File.Delete(Path.Combine(directory, f));

        manifest.FormatVersion = ModelManifest.CurrentFormatVersion;
        manifest.Items = items.ExternalIds.ToList();
        manifest.SasRec = sasRec.Config;
        manifest.Sae = sae?.Config;
        manifest.Files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        manifest.Shapes = new SortedDictionary<string, SortedDictionary<string, long[]>>(StringComparer.Ordinal);

        SaveModule(directory, SasRecFile, sasRec, manifest);
        if (sae is not null) SaveModule(directory, SaeFile, sae, manifest);
        if (neurons is not null)
        {
            NeuronStatsFile.Write(Path.Combine(directory, NeuronsFile), neurons);
            manifest.Files[NeuronsFile] = Sha256(Path.Combine(directory, NeuronsFile));
        }
        if (groups is not null)
        {
            PopularityGroupsFile.Write(Path.Combine(directory, GroupsFile), groups);
            manifest.Files[GroupsFile] = Sha256(Path.Combine(directory, GroupsFile));
        }
        WriteManifest(directory, manifest);
        return manifest;
    }

    /// <summary>Rewrites manifest.json (e.g. after `tune` stores steering defaults); the files must be unchanged. Returns the new version.</summary>
    public static string WriteManifest(string directory, ModelManifest manifest)
    {
        var path = Path.Combine(directory, ModelManifest.FileName);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(manifest, Json);
        var tmp = path + ".tmp";
        File.WriteAllBytes(tmp, bytes);
        File.Move(tmp, path, overwrite: true);
        manifest.Version = VersionOf(bytes);
        return manifest.Version;
    }

    /// <summary>Reads the manifest and checks the format version and every listed file's SHA-256.</summary>
    public static ModelManifest Verify(string directory)
    {
        var manifest = ReadManifest(directory);
        foreach (var (file, expected) in manifest.Files)
        {
            if (file.Contains('/') || file.Contains('\\') || file == "..")
                throw new ModelFormatException(file, "the manifest names a file outside the model directory");
            var path = Path.Combine(directory, file);
            if (!File.Exists(path)) throw new ModelFormatException(path, "listed in the manifest but missing");
            var actual = Sha256(path);
            if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
                throw new ModelFormatException(path, $"SHA-256 {actual} does not match the manifest's {expected}: the file was changed or corrupted");
        }
        return manifest;
    }

    /// <summary>Reads manifest.json without checking the files (use <see cref="Verify"/> before trusting weights).</summary>
    public static ModelManifest ReadManifest(string directory)
    {
        var path = Path.Combine(directory, ModelManifest.FileName);
        if (!Directory.Exists(directory)) throw new ModelFormatException(directory, "model directory not found");
        if (!File.Exists(path)) throw new ModelFormatException(path, "missing: not a model directory, or saving did not finish");
        var length = new FileInfo(path).Length;
        if (length > ModelSizeBounds.MaxManifestBytes)
            throw new ModelFormatException(path, $"is {length:N0} bytes, over the {ModelSizeBounds.MaxManifestBytes:N0}-byte limit");
        var bytes = File.ReadAllBytes(path);
        ModelManifest? manifest;
        try { manifest = JsonSerializer.Deserialize<ModelManifest>(bytes, Json); }
        catch (JsonException e) { throw new ModelFormatException($"{path}: invalid JSON ({e.Message})", e); }
        if (manifest is null) throw new ModelFormatException(path, "empty manifest");
        if (manifest.FormatVersion != ModelManifest.CurrentFormatVersion)
            throw new ModelFormatException(path, $"format version {manifest.FormatVersion}; this build reads version {ModelManifest.CurrentFormatVersion}");
        manifest.Items ??= [];
        if (ModelSizeBounds.CheckDimensions(manifest) is { } refused) throw new ModelFormatException(path, refused);
        if (manifest.Items.Count != manifest.SasRec.ItemCount)
            throw new ModelFormatException(path, $"lists {manifest.Items.Count} items but SASRec is configured for {manifest.SasRec.ItemCount}");
        manifest.Files ??= new(StringComparer.Ordinal);
        manifest.Shapes ??= new(StringComparer.Ordinal);
        manifest.Version = VersionOf(bytes);
        return manifest;
    }

    public static bool Has(ModelManifest manifest, string file) => manifest.Files.ContainsKey(file);

    public static ItemVocabulary LoadItems(ModelManifest manifest) => new(manifest.Items);

    public static SasRec LoadSasRec(string directory, ModelManifest manifest)
    {
        RequireRoomFor(directory, manifest, SasRecFile, ModelSizeBounds.SasRecParameters(manifest.SasRec));
        var model = new SasRec(manifest.SasRec);
        LoadModule(directory, SasRecFile, model, manifest);
        return model;
    }

    public static TopKSae LoadSae(string directory, ModelManifest manifest)
    {
        var config = manifest.Sae ?? throw new ModelFormatException(Path.Combine(directory, ModelManifest.FileName), "has no SAE: run train-sae first");
        if (config.InputDim != manifest.SasRec.Dim)
            throw new ModelFormatException(Path.Combine(directory, ModelManifest.FileName), $"SAE input {config.InputDim} differs from SASRec's d = {manifest.SasRec.Dim}");
        RequireRoomFor(directory, manifest, SaeFile, ModelSizeBounds.SaeParameters(config));
        var model = new TopKSae(config);
        LoadModule(directory, SaeFile, model, manifest);
        return model;
    }

    public static NeuronStats LoadNeurons(string directory, ModelManifest manifest)
    {
        Require(directory, manifest, NeuronsFile, "has no neuron statistics: run analyze first");
        return NeuronStatsFile.Read(Path.Combine(directory, NeuronsFile), manifest.Sae!.Width);
    }

    public static PopularityGroups LoadGroups(string directory, ModelManifest manifest)
    {
        Require(directory, manifest, GroupsFile, "has no popularity groups: run analyze first");
        return PopularityGroupsFile.Read(Path.Combine(directory, GroupsFile), manifest.SasRec.ItemCount);
    }

    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private static string VersionOf(byte[] manifestBytes) => Convert.ToHexStringLower(SHA256.HashData(manifestBytes))[..16];

    private static void Require(string directory, ModelManifest manifest, string file, string message)
    {
        if (!manifest.Files.ContainsKey(file)) throw new ModelFormatException(Path.Combine(directory, ModelManifest.FileName), message);
    }

    // Modules allocate their parameters when built: refuse a configuration its weight file cannot hold first.
    private static void RequireRoomFor(string directory, ModelManifest manifest, string file, long parameters)
    {
        Require(directory, manifest, file, $"does not list {file}");
        var path = Path.Combine(directory, file);
        if (!File.Exists(path)) throw new ModelFormatException(path, "listed in the manifest but missing");
        if (ModelSizeBounds.CheckWeightFile(path, parameters) is { } refused) throw new ModelFormatException(path, refused);
    }

    private static void SaveModule(string directory, string file, nn.Module module, ModelManifest manifest)
    {
        var path = Path.Combine(directory, file);
        module.save(path);
        manifest.Files[file] = Sha256(path);
        manifest.Shapes[file] = ShapesOf(module);
    }

    private static void LoadModule(string directory, string file, nn.Module module, ModelManifest manifest)
    {
        var path = Path.Combine(directory, file);
        Require(directory, manifest, file, $"does not list {file}");
        if (!manifest.Shapes.TryGetValue(file, out var stored))
            throw new ModelFormatException(path, "the manifest records no parameter shapes for this file");
        var expected = ShapesOf(module);
        foreach (var (name, shape) in expected)
        {
            if (!stored.TryGetValue(name, out var s))
                throw new ModelFormatException(path, $"parameter '{name}' is missing from the manifest's shapes");
            if (!s.SequenceEqual(shape))
                throw new ModelFormatException(path, $"parameter '{name}' has shape [{string.Join(", ", s)}] but the configuration implies [{string.Join(", ", shape)}]");
        }
        foreach (var name in stored.Keys.Where(n => !expected.ContainsKey(n)))
            throw new ModelFormatException(path, $"holds an unexpected parameter '{name}'");
        try
        {
            module.load(path, strict: true);
        }
        catch (Exception e) when (e is not ModelFormatException)
        {
            throw new ModelFormatException($"{path}: the weights do not load into the configured model ({e.Message})", e);
        }
    }

    private static SortedDictionary<string, long[]> ShapesOf(nn.Module module)
    {
        var shapes = new SortedDictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var (name, t) in module.state_dict()) shapes[name] = t.shape;
        return shapes;
    }
}
