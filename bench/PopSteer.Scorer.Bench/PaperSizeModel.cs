using PopSteer.Core.Data;
using PopSteer.Core.Model;
using PopSteer.Core.Steering;
using PopSteer.Core.Storage;
using static TorchSharp.torch;

namespace PopSteer.Scorer.Bench;

/// <summary>
/// A model directory with the paper's shapes (d = 64, 2 blocks, 2 heads, FF 256, L = 50, SAE h = 4096, k = 32) over an
/// ML-1M-sized catalogue, with seeded random weights: scoring cost depends on shapes only, so throughput measured on
/// it is what a trained model of the same size costs. Neuron statistics come from the real analyzer.
/// </summary>
internal static class PaperSizeModel
{
    public static string Create(string directory, int items = 3416, int seed = 42)
    {
        var rows = SyntheticDataGenerator.Generate(new SyntheticDataOptions(Users: 6040, Items: items, Interactions: 300_000, Seed: seed));
        var data = SequenceDataset.FromInteractions(rows);
        var split = LeaveOneOutSplit.Create(data, 50);
        var groups = PopularityGroups.FromCounts(split.TrainingTargetCounts, 0.2);
        random.manual_seed(seed);
        using var sasRec = new SasRec(new SasRecConfig { ItemCount = data.Items.Count });
        using var sae = new TopKSae(SaeConfig.ForDim(64));
        var analysis = new AnalysisSettings { Prefixes = 5000, Seed = seed };
        var stats = NeuronAnalyzer.Analyze(sasRec, sae, split.TrainSequences, groups, analysis);
        var manifest = new ModelManifest
        {
            DataFingerprint = data.Fingerprint,
            Analysis = analysis,
            Training = new Dictionary<string, string> { ["trained"] = "false (bench: random weights, paper shapes)", ["seed"] = seed.ToString() },
        };
        ModelDirectory.Save(directory, manifest, data.Items, sasRec, sae, stats, groups);
        return directory;
    }
}
