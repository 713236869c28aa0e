using PopSteer.Core.Data;
using PopSteer.Core.Model;
using PopSteer.Core.Scoring;
using PopSteer.Core.Steering;
using PopSteer.Core.Storage;
using static TorchSharp.torch;

namespace PopSteer.Core.Tests;

public class NeuronAnalyzerTests
{
    [Fact]
    public void Nearest_item_synthetic_users_give_the_directly_computed_means_and_population_stds()
    {
        var data = SequenceDataset.FromInteractions(SyntheticDataGenerator.Generate(new SyntheticDataOptions(30, 40, 400, Seed: 8) { ZipfExponent = 0.7, ClusterSize = 8 }));
        var split = LeaveOneOutSplit.Create(data, 6);
        var groups = PopularityGroups.FromCounts(split.TrainingTargetCounts, 0.3);
        random.manual_seed(8);
        using var sasRec = new SasRec(new SasRecConfig { ItemCount = data.Items.Count, Dim = 8, Blocks = 1, Heads = 2, FeedForward = 16, MaxLength = 6 });
        using var sae = new TopKSae(new SaeConfig { InputDim = 8, Width = 24, K = 4, KAux = 16 });
        sasRec.eval();
        var settings = new AnalysisSettings { Prefixes = 1_000_000, Mode = SyntheticUserMode.NearestByEmbedding, Seed = 1 };
        var stats = NeuronAnalyzer.Analyze(sasRec, sae, split.TrainSequences, groups, settings);

        // Direct computation: every training prefix (all fit under the cap), last <= 6 items, each item replaced by the
        // head item with the largest embedding dot product.
        var head = groups.Items(PopularityGroup.Head).ToArray();
        using var _ = no_grad();
        using var table = sasRec.ItemEmbeddings.detach();
        int Nearest(int item) => head.OrderByDescending(h => table[item].dot(table[h]).item<float>()).First();
        var users = new List<int[]>();
        foreach (var s in split.TrainSequences)
            for (int t = 1; t < s.Length; t++) users.Add(s[Math.Max(0, t - 6)..t].Select(Nearest).ToArray());
        var (items, lengths) = HistoryBatch.Create(users, 6, data.Items.Count, CPU);
        using var z = sae.PreActivation(sasRec.UserVectors(items, lengths)).to(ScalarType.Float64);
        var mean = z.mean([0]).data<double>().ToArray();
        var std = z.std(0, unbiased: false).data<double>().ToArray();
        for (int j = 0; j < sae.Width; j++)
        {
            Assert.Equal(mean[j], stats.MuHead[j], 4);
            Assert.Equal(std[j], stats.SigmaHead[j], 4);
        }
        Assert.Equal((double)NeuronStats.CohensD(stats.MuHead[3], stats.MuTail[3], stats.SigmaHead[3], stats.SigmaTail[3]), stats.CohenD[3], 4);
    }

    [Fact]
    public void Prefix_sampling_is_seeded_without_replacement_and_capped()
    {
        var sequences = new[] { Enumerable.Range(1, 40).ToArray(), Enumerable.Range(1, 30).ToArray(), new[] { 1 } };
        var a = NeuronAnalyzer.SamplePrefixes(sequences, 25, seed: 3);
        Assert.Equal(25, a.Count);
        Assert.Equal(25, a.Distinct().Count());
        Assert.Equal(a, NeuronAnalyzer.SamplePrefixes(sequences, 25, seed: 3));
        Assert.All(a, p => Assert.InRange(p.Length, 1, sequences[p.User].Length - 1));
        Assert.Equal(39 + 29, NeuronAnalyzer.SamplePrefixes(sequences, 1000, seed: 3).Count);
    }
}
