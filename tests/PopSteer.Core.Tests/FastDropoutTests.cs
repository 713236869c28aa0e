using System.Runtime.InteropServices;
using PopSteer.Core.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace PopSteer.Core.Tests;

/// <summary>
/// FastDropout is nn.Dropout's inverted dropout: a kept share of 1 - p, kept values scaled by 1 / (1 - p), the
/// gradient through the same mask, masks fixed by torch's seed; SASRec's attention with dropout on the probabilities
/// is libtorch's attention when the mask keeps everything.
/// </summary>
public class FastDropoutTests
{
    [Theory]
    [InlineData(0.1)]
    [InlineData(0.5)]
    [InlineData(0.8)]
    public void The_mask_keeps_one_minus_p_of_the_elements_at_one_over_one_minus_p(double p)
    {
        const int n = 1_000_003; // not a multiple of the 8-float vector: the tail is written too
        var mask = new float[n];
        Array.Fill(mask, float.NaN);
        FastDropout.Fill(mask, p, seed: 2024);
        float keep = (float)(1 / (1 - p));
        Assert.All(mask, v => Assert.True(v == 0f || v == keep, $"mask value {v}"));
        double kept = mask.Count(v => v != 0) / (double)n;
        double se = Math.Sqrt(p * (1 - p) / n);
        Assert.InRange(kept, 1 - p - 5 * se, 1 - p + 5 * se);
        // Neighbours (same 64-bit draw), the next vector's same lane and the next lane: independent, so each pair is
        // kept together with probability (1 - p)^2.
        foreach (int lag in new[] { 1, 2, 8 })
        {
            int both = 0;
            for (int i = 0; i + lag < n; i++) if (mask[i] != 0 && mask[i + lag] != 0) both++;
            double share = both / (double)(n - lag), expected = (1 - p) * (1 - p);
            Assert.InRange(share, expected - 6 * Math.Sqrt(expected * (1 - expected) / n), expected + 6 * Math.Sqrt(expected * (1 - expected) / n));
        }
    }

    [Fact]
    public void Torch_s_seed_fixes_the_mask_and_another_seed_changes_it()
    {
        using var x = ones(64, 50, 8);
        random.manual_seed(5);
        using var first = FastDropout.Apply(x, 0.5);
        random.manual_seed(5);
        using var again = FastDropout.Apply(x, 0.5);
        random.manual_seed(6);
        using var other = FastDropout.Apply(x, 0.5);
        Assert.True(first.eq(again).all().item<bool>());
        Assert.False(first.eq(other).all().item<bool>());
        using var next = FastDropout.Apply(x, 0.5); // the generator moved on: a fresh mask per call
        Assert.False(other.eq(next).all().item<bool>());
    }

    [Fact]
    public void The_gradient_goes_through_the_same_mask()
    {
        random.manual_seed(7);
        using var x = randn(33, 17).requires_grad_(true);
        using var y = FastDropout.Apply(x, 0.3);
        using var weights = randn(33, 17);
        using (var loss = y.mul(weights).sum()) loss.backward();
        // y = x * m, so dL/dx = weights * m, with m = y / x wherever x is not 0.
        using var m = y.detach().div(x.detach());
        using var expected = weights.mul(m);
        Assert.True(x.grad!.allclose(expected, rtol: 1e-5, atol: 1e-6));
        var kept = MemoryMarshal.Cast<byte, float>(m.contiguous().bytes).ToArray().Select(v => MathF.Round(v, 4)).Distinct().Order().ToArray();
        Assert.Equal(new[] { 0f, MathF.Round(1 / 0.7f, 4) }, kept);
    }

    [Fact]
    public void Eval_mode_and_p_zero_leave_the_input_as_it_is()
    {
        random.manual_seed(8);
        using var x = randn(10, 6);
        using var module = new FastDropout(0.5);
        module.eval();
        using (var y = module.forward(x)) Assert.True(y.eq(x).all().item<bool>());
        using (var y = FastDropout.Apply(x, 0)) Assert.True(y.eq(x).all().item<bool>());
        module.train();
        using (var y = module.forward(x)) Assert.False(y.eq(x).all().item<bool>());
        Assert.Throws<ArgumentOutOfRangeException>(() => new FastDropout(1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FastDropout(-0.1));
    }

    [Theory]
    [InlineData(false)] // no padding: causal attention
    [InlineData(true)]  // padded rows: the additive causal + padding mask
    public void Training_attention_with_a_mask_that_keeps_everything_is_libtorch_s_attention(bool padded)
    {
        random.manual_seed(9);
        // Dropout 0 on the hidden states; attention dropout so small that no probability is dropped, which still takes
        // the explicit path (FastDropout's mask on softmax(q k^T / sqrt(d_h) + mask)) instead of libtorch's.
        using var model = new SasRec(new SasRecConfig { ItemCount = 30, Dim = 16, Blocks = 2, Heads = 2, FeedForward = 32, MaxLength = 12, Dropout = 0, AttentionDropout = 1e-9 });
        using (no_grad()) // weights far from the N(0, 0.02) start, so the attention is sharp and the scale and masks matter
            foreach (var (name, w) in model.named_parameters())
                if (!name.Contains("layer_norm")) w.normal_(0, 0.5);
        using var seq = randint(1, 31, [5, 12], dtype: int64);
        if (padded) seq[0, TensorIndex.Slice(7, null)] = tensor(0L);
        model.train();
        using var trained = model.forward(seq);
        model.eval();
        using var evaluated = model.forward(seq);
        Assert.True(trained.allclose(evaluated, rtol: 1e-4, atol: 1e-5), $"max difference {trained.sub(evaluated).abs().max().item<float>()}");
    }
}
