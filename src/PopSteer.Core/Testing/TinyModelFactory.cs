using PopSteer.Core.Data;
using PopSteer.Core.Model;
using PopSteer.Core.Steering;
using PopSteer.Core.Storage;
using static TorchSharp.torch;

namespace PopSteer.Core.Testing;

/// <summary>
/// Builds a small but real model directory in well under a second: untrained (seeded random) SASRec and SAE weights,
/// popularity groups from a seeded synthetic log, and neuron statistics from the real analyzer. For tests of code
/// that loads, publishes or scores model directories; the scores are meaningless, the format and the maths are real.
/// </summary>
public static class TinyModelFactory
{
    public const int Dim = 16;
    public const int SaeWidth = 64;
    public const int MaxLength = 10;

    /// <summary>Writes the directory and returns its manifest (Version set). Same (items, seed) gives the same weight files (the manifest carries a creation time).</summary>
    public static ModelManifest Create(string directory, int items = 30, int seed = 7)
    {
        if (items < 10) throw new ArgumentOutOfRangeException(nameof(items), items, "The tiny model needs at least 10 items to have head and tail groups.");
        var rows = SyntheticDataGenerator.Generate(new SyntheticDataOptions(Users: items * 2, Items: items, Interactions: items * 20, Seed: seed)
        {
            ZipfExponent = 0.7,
            ClusterSize = 5,
        });
        var data = SequenceDataset.FromInteractions(rows);
        var split = LeaveOneOutSplit.Create(data, MaxLength);
        // A few dozen items can have one item above 20% of all targets (empty head): widen the share until both groups exist.
        var groups = new[] { 0.2, 0.3, 0.4, 0.49 }.Select(s => PopularityGroups.FromCounts(split.TrainingTargetCounts, s))
            .FirstOrDefault(g => g.Size(PopularityGroup.Head) > 0 && g.Size(PopularityGroup.Tail) > 0)
            ?? throw new InvalidOperationException($"Seed {seed} gave no head/tail split for {items} items; try another seed.");

        random.manual_seed(seed);
        using var sasRec = new SasRec(new SasRecConfig { ItemCount = data.Items.Count, Dim = Dim, Blocks = 1, Heads = 2, FeedForward = 32, MaxLength = MaxLength });
        using var sae = new TopKSae(new SaeConfig { InputDim = Dim, Width = SaeWidth, K = 8, KAux = 2 * Dim });
        var analysis = new AnalysisSettings { Prefixes = 2000, GroupShare = groups.Share, Seed = seed };
        var stats = NeuronAnalyzer.Analyze(sasRec, sae, split.TrainSequences, groups, analysis);
        var manifest = new ModelManifest
        {
            DataFingerprint = data.Fingerprint,
            Analysis = analysis,
            Training = new Dictionary<string, string> { ["trained"] = "false (TinyModelFactory: random weights)", ["seed"] = seed.ToString() },
        };
        return ModelDirectory.Save(directory, manifest, data.Items, sasRec, sae, stats, groups);
    }
}
