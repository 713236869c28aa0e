using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace PopSteer.Core.Model;

/// <summary>
/// nn.Dropout's inverted dropout, y = x * m / (1 - p) with m ~ Bernoulli(1 - p) per element, whose mask a managed
/// generator writes straight into a CPU tensor's storage. libtorch's CPU <c>bernoulli_</c> draws one element at a time:
/// at one ML-1M training step's shapes [82, 50, 64] it took 5.7 ms per dropout and 12.8 ms on the attention
/// probabilities (`PopSteer.Bench train-ops`), against 0.23 and 0.37-0.48 ms here; with it SASRec's transformer
/// forward fell from 25.2 to 8.4 s of a 61 s ML-1M-sized epoch (`train-profile`). The product with the mask is an ordinary tracked multiply, so the
/// backward is grad * m / (1 - p) exactly as nn.Dropout's.
/// <para>
/// Each call takes its 64-bit seed from torch's default generator, so <c>torch.random.manual_seed</c> fixes the masks as
/// it fixed nn.Dropout's (the streams differ; the distribution is the same). Off the CPU, or for another dtype, it is
/// libtorch's dropout.
/// </para>
/// </summary>
public sealed class FastDropout : nn.Module<Tensor, Tensor>
{
    public FastDropout(double p) : base(nameof(FastDropout))
    {
        if (p is < 0 or >= 1 || double.IsNaN(p)) throw new ArgumentOutOfRangeException(nameof(p), p, "dropout must lie in [0, 1)");
        P = p;
    }

    public double P { get; }

    /// <summary>Training: x * mask; eval (or p = 0): x itself.</summary>
    public override Tensor forward(Tensor input) => training ? Apply(input, P) : input.alias();

    /// <summary>x * m / (1 - p), m ~ Bernoulli(1 - p) elementwise; <paramref name="p"/> 0 returns x.</summary>
    public static Tensor Apply(Tensor input, double p)
    {
        if (p == 0) return input.alias();
        if (input.device_type != DeviceType.CPU || input.dtype != ScalarType.Float32) return nn.functional.dropout(input, p, training: true);
        using var mask = Mask(input.shape, p);
        return input.mul(mask);
    }

    /// <summary>A float32 CPU tensor of the given shape holding 0 with probability p and 1 / (1 - p) otherwise.</summary>
    public static Tensor Mask(long[] shape, double p)
    {
        if (p is < 0 or >= 1 || double.IsNaN(p)) throw new ArgumentOutOfRangeException(nameof(p), p, "dropout must lie in [0, 1)");
        ulong seed;
        using (var draw = randint(long.MinValue, long.MaxValue, [1], dtype: ScalarType.Int64)) seed = (ulong)draw.item<long>();
        var mask = empty(shape, dtype: ScalarType.Float32);
        Fill(MemoryMarshal.Cast<byte, float>(mask.bytes), p, seed);
        return mask;
    }

    /// <summary>
    /// Writes the mask for seed <paramref name="seed"/>: each element keeps (1 / (1 - p)) when a 32-bit uniform draw is
    /// at least p * 2^32, else 0. Four xoshiro256+ streams (Blackman and Vigna) side by side in one 256-bit vector,
    /// seeded by SplitMix64; each 64-bit draw decides two elements. xoshiro256+ has weak lowest bits, which a
    /// comparison of a 32-bit draw against p * 2^32 barely reads (they move the kept share by at most 2^-24).
    /// </summary>
    internal static void Fill(Span<float> mask, double p, ulong seed)
    {
        uint threshold = (uint)Math.Min(uint.MaxValue, Math.Round(p * 4294967296.0));
        float keep = (float)(1.0 / (1.0 - p));
        var s0 = Vector256.Create(SplitMix(ref seed), SplitMix(ref seed), SplitMix(ref seed), SplitMix(ref seed));
        var s1 = Vector256.Create(SplitMix(ref seed), SplitMix(ref seed), SplitMix(ref seed), SplitMix(ref seed));
        var s2 = Vector256.Create(SplitMix(ref seed), SplitMix(ref seed), SplitMix(ref seed), SplitMix(ref seed));
        var s3 = Vector256.Create(SplitMix(ref seed), SplitMix(ref seed), SplitMix(ref seed), SplitMix(ref seed));
        var limit = Vector256.Create(threshold);
        var kept = Vector256.Create(keep);
        Span<float> tail = stackalloc float[Vector256<float>.Count];
        for (int i = 0; i < mask.Length; i += Vector256<float>.Count)
        {
            var draw = (s0 + s3).AsUInt32();
            var t = Vector256.ShiftLeft(s1, 17);
            s2 ^= s0;
            s3 ^= s1;
            s1 ^= s2;
            s0 ^= s3;
            s2 ^= t;
            s3 = Vector256.ShiftLeft(s3, 45) | Vector256.ShiftRightLogical(s3, 19);
            var values = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(draw, limit).AsSingle(), kept, Vector256<float>.Zero);
            if (i + Vector256<float>.Count <= mask.Length) values.StoreUnsafe(ref MemoryMarshal.GetReference(mask), (nuint)i);
            else
            {
                values.CopyTo(tail);
                tail[..(mask.Length - i)].CopyTo(mask[i..]);
            }
        }
    }

    private static ulong SplitMix(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
