using PopSteer.Core.Data;
using PopSteer.Core.Model;
using PopSteer.Core.Scoring;
using PopSteer.Core.Steering;
using PopSteer.Core.Storage;
using PopSteer.Core.Testing;
using static TorchSharp.torch;

namespace PopSteer.Core.Tests;

/// <summary>
/// The serving path (fused QKV, fused attention, cached masks, the no-padding causal shortcut, the last-block
/// shortcut, the addmm item scores) must rank exactly as the plain maths in <see cref="ReferenceScoring"/> does.
/// </summary>
public sealed class FastScoringTests : IDisposable
{
    private const int Items = 300, MaxLength = 20;
    private readonly TempDirectory _tmp = new();
    private readonly string _dir;

    public FastScoringTests()
    {
        _dir = _tmp.File("m");
        random.manual_seed(21);
        using var sasRec = new SasRec(new SasRecConfig { ItemCount = Items, Dim = 32, Blocks = 2, Heads = 2, FeedForward = 64, MaxLength = MaxLength });
        using var sae = new TopKSae(new SaeConfig { InputDim = 32, Width = 256, K = 16, KAux = 64 });
        using (no_grad())
        {
            // Weights far from RecBole's N(0, 0.02) init, so scores are well apart and a ranking is not decided by rounding.
            foreach (var (name, p) in sasRec.named_parameters())
                if (!name.Contains("layer_norm")) p.copy_(randn(p.shape).mul(0.3));
        }
        var rng = new Random(3);
        float[] R(double lo, double hi) => Enumerable.Range(0, 256).Select(_ => (float)(lo + rng.NextDouble() * (hi - lo))).ToArray();
        var stats = new NeuronStats(R(0, 1), R(0.5, 1), R(0, 1), R(0.5, 1), R(-2, 2));
        var counts = new long[Items + 1];
        for (int i = 1; i <= Items; i++) counts[i] = 1 + 1000 / i;
        ModelDirectory.Save(_dir, new ModelManifest { DataFingerprint = "fast-scoring-test" }, new ItemVocabulary(Enumerable.Range(1, Items).Select(i => $"i{i}")),
            sasRec, sae, stats, PopularityGroups.FromCounts(counts));
    }

    public void Dispose() => _tmp.Dispose();

    public static TheoryData<string, int, int, int> Batches => new()
    {
        { "mixed lengths, padded, some longer than the model's window", 64, 1, 35 },
        { "one user (no padding: the causal-only path)", 1, 12, 12 },
        { "equal lengths (no padding)", 16, MaxLength, MaxLength },
        { "one item each", 8, 1, 1 },
    };

    [Theory]
    [MemberData(nameof(Batches))]
    public void Serving_path_ranks_exactly_as_the_reference_maths(string batch, int users, int minLength, int maxLength)
    {
        var rng = new Random(users * 31 + maxLength);
        var histories = Enumerable.Range(0, users)
            .Select(_ => Enumerable.Range(0, rng.Next(minLength, maxLength + 1)).Select(_ => rng.Next(1, Items + 1)).ToArray()).ToArray();
        using var model = PopSteerModel.Load(_dir);
        var manifest = ModelDirectory.Verify(_dir);
        using var sasRec = ModelDirectory.LoadSasRec(_dir, manifest);
        using var sae = ModelDirectory.LoadSae(_dir, manifest);
        sasRec.eval();
        var plan = model.PlanFor(2.0, 128);

        using var x = ReferenceScoring.UserVectors(sasRec, histories);
        using var fastX = model.UserVectors(histories);
        Assert.True(fastX.allclose(x, rtol: 1e-4, atol: 1e-4), $"{batch}: user vectors differ by up to {fastX.sub(x).abs().max().item<float>()}");

        using var unsteered = ReferenceScoring.Reconstruct(sae, x, null);
        using var steered = ReferenceScoring.Reconstruct(sae, x, plan.Shift);
        var expected = new Dictionary<ScoringMethod, int[][]>
        {
            [ScoringMethod.SasRec] = ReferenceScoring.TopItems(sasRec, x, 10),
            [ScoringMethod.Sae] = ReferenceScoring.TopItems(sasRec, unsteered, 10),
            [ScoringMethod.PopSteer] = ReferenceScoring.TopItems(sasRec, steered, 10),
        };
        foreach (var (method, reference) in expected)
        {
            var served = model.Recommend(histories, method, method == ScoringMethod.PopSteer ? plan : null, 10);
            for (int u = 0; u < users; u++)
                Assert.True(reference[u].SequenceEqual(served[u].Select(r => r.Item)),
                    $"{batch}, {method}, user {u}: reference [{string.Join(",", reference[u])}] served [{string.Join(",", served[u].Select(r => r.Item))}]");
        }
        // Steering moved something, so the comparison above is not of three identical lists.
        Assert.NotEqual(expected[ScoringMethod.Sae].SelectMany(l => l), expected[ScoringMethod.PopSteer].SelectMany(l => l));
    }

    [Fact]
    public void Training_mode_still_gets_gradients_through_the_fused_attention_and_dropout_is_live()
    {
        random.manual_seed(4);
        using var model = new SasRec(new SasRecConfig { ItemCount = 50, Dim = 16, Blocks = 2, Heads = 2, FeedForward = 32, MaxLength = 8, Dropout = 0.3, AttentionDropout = 0.3 });
        model.train();
        using var items = tensor(new long[] { 3, 4, 5, 0, 0, 7, 8, 9, 10, 11 }, [2, 5]);
        using var a = model.forward(items);
        using var b = model.forward(items);
        Assert.False(a.allclose(b), "dropout is active in training mode");
        using var weights = randn(a.shape);
        using var loss = a.mul(weights).sum(); // not a.sum(): the post-LN output sums to a constant in its input
        loss.backward();
        foreach (var (name, p) in model.named_parameters())
        {
            if (name.StartsWith("position_embedding", StringComparison.Ordinal)) continue; // rows past length 5 get no gradient, the rest do
            Assert.True(p.grad is not null && p.grad.abs().sum().item<float>() > 0, $"{name} got no gradient");
        }
    }
}
