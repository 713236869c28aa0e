using System.Runtime.Intrinsics;
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
        Assert.Equal(Vector256.IsHardwareAccelerated, model.HasSmallBatchPath);
        // Both serving paths: libtorch (limit 0) and the managed small-batch scorer (every batch below the limit).
        foreach (var (path, limit) in new[] { ("libtorch", 0), ("managed", int.MaxValue) })
        {
            model.SmallBatchLimit = limit;
            foreach (var (method, reference) in expected)
            {
                var served = model.Recommend(histories, method, method == ScoringMethod.PopSteer ? plan : null, 10);
                for (int u = 0; u < users; u++)
                    Assert.True(reference[u].SequenceEqual(served[u].Select(r => r.Item)),
                        $"{batch}, {path}, {method}, user {u}: reference [{string.Join(",", reference[u])}] served [{string.Join(",", served[u].Select(r => r.Item))}]");
            }
        }
        model.SmallBatchLimit = 0;
        var torchExcluding = model.Recommend(histories, ScoringMethod.PopSteer, plan, 10, excludeSeen: true);
        model.SmallBatchLimit = int.MaxValue;
        var managedExcluding = model.Recommend(histories, ScoringMethod.PopSteer, plan, 10, excludeSeen: true);
        for (int u = 0; u < users; u++)
        {
            Assert.Equal(torchExcluding[u].Select(r => r.Item), managedExcluding[u].Select(r => r.Item));
            Assert.DoesNotContain(managedExcluding[u], r => histories[u].Contains(r.Item));
            for (int r = 0; r < managedExcluding[u].Length; r++)
                Assert.True(Math.Abs(torchExcluding[u][r].Score - managedExcluding[u][r].Score) <= 1e-4 * Math.Max(1, Math.Abs(torchExcluding[u][r].Score)),
                    $"user {u} rank {r}: libtorch {torchExcluding[u][r].Score}, managed {managedExcluding[u][r].Score}");
        }
        // Split over threads, the managed path serves the same lists in the same order (users 0..63 in parts of 8+).
        model.Parallelism = 1;
        var oneThread = model.Recommend(histories, ScoringMethod.PopSteer, plan, 10);
        model.Parallelism = 3;
        var threeThreads = model.Recommend(histories, ScoringMethod.PopSteer, plan, 10);
        for (int u = 0; u < users; u++)
            Assert.Equal(oneThread[u], threeThreads[u]);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Parallelism = -1);
        // Steering moved something, so the comparison above is not of three identical lists.
        Assert.NotEqual(expected[ScoringMethod.Sae].SelectMany(l => l), expected[ScoringMethod.PopSteer].SelectMany(l => l));
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(70, false)]
    [InlineData(70, true)]
    public void Unsteered_lists_from_the_shared_pass_equal_plain_SasRec_scoring_on_both_paths(int users, bool excludeSeen)
    {
        var rng = new Random(users + 5);
        var histories = Enumerable.Range(0, users)
            .Select(_ => Enumerable.Range(0, rng.Next(1, 30)).Select(_ => rng.Next(1, Items + 1)).ToArray()).ToArray();
        // Every third user marked, and runs of marked users longer than a group of 8 (users 40-59), so both the
        // groups filled during the pass and the remainder scored at the end are exercised.
        var marked = Enumerable.Range(0, users).Select(u => users == 1 || u % 3 == 0 || u is >= 40 and < 60).ToArray();
        using var model = PopSteerModel.Load(_dir);
        var plan = model.PlanFor(2.0, 128);
        foreach (var (path, limit, threads) in new[] { ("libtorch", 0, 1), ("managed", int.MaxValue, 1), ("managed, 3 threads", int.MaxValue, 3) })
        {
            model.SmallBatchLimit = limit;
            model.Parallelism = threads;
            var (steered, unsteered) = model.RecommendWithUnsteered(histories, plan, 10, marked, excludeSeen);
            var expectedSteered = model.Recommend(histories, ScoringMethod.PopSteer, plan, 10, excludeSeen);
            var expectedPlain = model.Recommend(histories, ScoringMethod.SasRec, null, 10, excludeSeen);
            for (int u = 0; u < users; u++)
            {
                Assert.Equal(expectedSteered[u], steered[u]);
                if (!marked[u])
                {
                    Assert.Null(unsteered[u]);
                    continue;
                }
                // The same items in the same order; scores to float rounding (a product over fewer rows may sum in another order).
                Assert.Equal(expectedPlain[u].Select(r => r.Item), unsteered[u]!.Select(r => r.Item));
                for (int r = 0; r < expectedPlain[u].Length; r++)
                    Assert.True(Math.Abs(expectedPlain[u][r].Score - unsteered[u]![r].Score) <= 1e-4 * Math.Max(1, Math.Abs(expectedPlain[u][r].Score)), $"{path}, user {u}, rank {r}");
            }
        }
        Assert.Throws<ArgumentException>(() => model.RecommendWithUnsteered(histories, plan, 10, new bool[users + 1]));
    }

    [Fact]
    public void A_bad_history_in_a_batch_split_over_threads_throws_its_own_exception()
    {
        using var model = PopSteerModel.Load(_dir);
        model.Parallelism = 2;
        var plan = model.PlanFor(1.0, 64);
        int[][] Batch(int[] bad) => Enumerable.Range(0, 32).Select(u => u == 20 ? bad : new[] { 1 + u, 2 + u }).ToArray();
        var outside = Assert.Throws<ArgumentOutOfRangeException>(() => model.Recommend(Batch([3, Items + 1]), ScoringMethod.PopSteer, plan, 10));
        Assert.Contains("History 20", outside.Message);
        var empty = Assert.Throws<ArgumentException>(() => model.Recommend(Batch([]), ScoringMethod.PopSteer, plan, 10));
        Assert.Contains("History 20 is empty", empty.Message);
        Assert.Equal(32, model.Recommend(Batch([5]), ScoringMethod.PopSteer, plan, 10).Length);
    }

    [Fact]
    public void The_managed_erf_is_within_float_rounding_of_the_exact_function()
    {
        double worst = 0, at = 0;
        for (double x = -6; x <= 6; x += 1e-3)
        {
            double got = DenseKernels.Erf(Vector256.Create((float)x)).GetElement(0);
            double error = Math.Abs(got - ExactErf((float)x));
            if (error > worst) (worst, at) = (error, x);
        }
        Assert.True(worst < 5e-7, $"erf off by {worst:E2} at x = {at:F3}");
    }

    /// <summary>erf in double: its Taylor series up to |x| = 3, the asymptotic erfc series beyond.</summary>
    private static double ExactErf(double x)
    {
        double a = Math.Abs(x), sum;
        if (a <= 3)
        {
            double term = a;
            sum = a;
            for (int n = 1; n < 80; n++)
            {
                term *= -a * a / n;
                sum += term / (2 * n + 1);
            }
            sum *= 2 / Math.Sqrt(Math.PI);
        }
        else
        {
            double inv = 1 / (2 * a * a);
            double erfc = Math.Exp(-a * a) / (a * Math.Sqrt(Math.PI)) * (1 - inv + 3 * inv * inv - 15 * inv * inv * inv);
            sum = 1 - erfc;
        }
        return Math.Sign(x) * sum;
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
