using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace PopSteer.Core.Scoring;

/// <summary>
/// The few dense float kernels the managed small-batch path needs (<see cref="SmallBatchScorer"/>): a register-blocked
/// matrix product, LayerNorm, GELU and a dot product, in 256-bit SIMD. They exist because at batch 1 libtorch's cost is
/// per operation (dispatch, allocation, interop), not per FLOP: a SASRec forward is ~45 operations on tiny tensors.
/// </summary>
internal static class DenseKernels
{
    private const int Lanes = 8; // floats per Vector256

    /// <summary>
    /// C[m, n] = A[m, k] B[k, n] + bias[n]; all row-major. B is a weight stored transposed once (W^T of a Linear's
    /// [out, in] weight), so every inner step is one broadcast of A and contiguous loads of B. From 4 rows up, blocks
    /// of 4 rows x 16 columns keep 8 accumulators in registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MatMul(ReadOnlySpan<float> a, int m, int k, ReadOnlySpan<float> b, int n, ReadOnlySpan<float> bias, Span<float> c)
    {
        if (a.Length < m * k || b.Length < k * n || bias.Length < n || c.Length < m * n)
            throw new ArgumentException("MatMul: a buffer is shorter than its shape.");
        if (m < 4)
        {
            // One row (a user's vector against the SAE or the item table, n in the thousands): stream B row by row
            // into the output, which stays in L1. Walking B's columns in 16-wide blocks would stride through memory.
            for (int i = 0; i < m; i++)
            {
                var row = c.Slice(i * n, n);
                bias[..n].CopyTo(row);
                for (int p = 0; p < k; p++) AddScaled(row, a[i * k + p], b.Slice(p * n, n));
            }
            return;
        }
        ref float ra = ref MemoryMarshal.GetReference(a);
        ref float rb = ref MemoryMarshal.GetReference(b);
        ref float rbias = ref MemoryMarshal.GetReference(bias);
        ref float rc = ref MemoryMarshal.GetReference(c);
        int j = 0;
        for (; j + 2 * Lanes <= n; j += 2 * Lanes)
        {
            int i = 0;
            for (; i + 4 <= m; i += 4) Block4x16(ref ra, ref rb, ref rbias, ref rc, i, j, k, n);
            for (; i < m; i++) Block1x16(ref ra, ref rb, ref rbias, ref rc, i, j, k, n);
        }
        for (; j + Lanes <= n; j += Lanes)
            for (int i = 0; i < m; i++) Block1x8(ref ra, ref rb, ref rbias, ref rc, i, j, k, n);
        for (; j < n; j++)
        {
            for (int i = 0; i < m; i++)
            {
                float s = Unsafe.Add(ref rbias, j);
                for (int p = 0; p < k; p++) s += Unsafe.Add(ref ra, i * k + p) * Unsafe.Add(ref rb, p * n + j);
                Unsafe.Add(ref rc, i * n + j) = s;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block4x16(ref float a, ref float b, ref float bias, ref float c, int i, int j, int k, int n)
    {
        var b0 = Vector256.LoadUnsafe(ref bias, (nuint)j);
        var b1 = Vector256.LoadUnsafe(ref bias, (nuint)(j + Lanes));
        Vector256<float> c00 = b0, c01 = b1, c10 = b0, c11 = b1, c20 = b0, c21 = b1, c30 = b0, c31 = b1;
        ref float a0 = ref Unsafe.Add(ref a, i * k);
        ref float a1 = ref Unsafe.Add(ref a0, k);
        ref float a2 = ref Unsafe.Add(ref a1, k);
        ref float a3 = ref Unsafe.Add(ref a2, k);
        for (int p = 0; p < k; p++)
        {
            ref float row = ref Unsafe.Add(ref b, p * n + j);
            var w0 = Vector256.LoadUnsafe(ref row);
            var w1 = Vector256.LoadUnsafe(ref row, Lanes);
            var x = Vector256.Create(Unsafe.Add(ref a0, p));
            c00 = Vector256.FusedMultiplyAdd(x, w0, c00);
            c01 = Vector256.FusedMultiplyAdd(x, w1, c01);
            x = Vector256.Create(Unsafe.Add(ref a1, p));
            c10 = Vector256.FusedMultiplyAdd(x, w0, c10);
            c11 = Vector256.FusedMultiplyAdd(x, w1, c11);
            x = Vector256.Create(Unsafe.Add(ref a2, p));
            c20 = Vector256.FusedMultiplyAdd(x, w0, c20);
            c21 = Vector256.FusedMultiplyAdd(x, w1, c21);
            x = Vector256.Create(Unsafe.Add(ref a3, p));
            c30 = Vector256.FusedMultiplyAdd(x, w0, c30);
            c31 = Vector256.FusedMultiplyAdd(x, w1, c31);
        }
        ref float o = ref Unsafe.Add(ref c, i * n + j);
        c00.StoreUnsafe(ref o); c01.StoreUnsafe(ref o, Lanes);
        o = ref Unsafe.Add(ref o, n);
        c10.StoreUnsafe(ref o); c11.StoreUnsafe(ref o, Lanes);
        o = ref Unsafe.Add(ref o, n);
        c20.StoreUnsafe(ref o); c21.StoreUnsafe(ref o, Lanes);
        o = ref Unsafe.Add(ref o, n);
        c30.StoreUnsafe(ref o); c31.StoreUnsafe(ref o, Lanes);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block1x16(ref float a, ref float b, ref float bias, ref float c, int i, int j, int k, int n)
    {
        var c0 = Vector256.LoadUnsafe(ref bias, (nuint)j);
        var c1 = Vector256.LoadUnsafe(ref bias, (nuint)(j + Lanes));
        ref float a0 = ref Unsafe.Add(ref a, i * k);
        for (int p = 0; p < k; p++)
        {
            ref float row = ref Unsafe.Add(ref b, p * n + j);
            var x = Vector256.Create(Unsafe.Add(ref a0, p));
            c0 = Vector256.FusedMultiplyAdd(x, Vector256.LoadUnsafe(ref row), c0);
            c1 = Vector256.FusedMultiplyAdd(x, Vector256.LoadUnsafe(ref row, Lanes), c1);
        }
        ref float o = ref Unsafe.Add(ref c, i * n + j);
        c0.StoreUnsafe(ref o);
        c1.StoreUnsafe(ref o, Lanes);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block1x8(ref float a, ref float b, ref float bias, ref float c, int i, int j, int k, int n)
    {
        var c0 = Vector256.LoadUnsafe(ref bias, (nuint)j);
        ref float a0 = ref Unsafe.Add(ref a, i * k);
        for (int p = 0; p < k; p++)
            c0 = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref a0, p)), Vector256.LoadUnsafe(ref b, (nuint)(p * n + j)), c0);
        c0.StoreUnsafe(ref Unsafe.Add(ref c, i * n + j));
    }

    /// <summary>Sum of x[i] y[i].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        int n = x.Length, i = 0;
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float ry = ref MemoryMarshal.GetReference(y);
        var acc0 = Vector256<float>.Zero;
        var acc1 = Vector256<float>.Zero;
        for (; i + 2 * Lanes <= n; i += 2 * Lanes)
        {
            acc0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref rx, (nuint)i), Vector256.LoadUnsafe(ref ry, (nuint)i), acc0);
            acc1 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref rx, (nuint)(i + Lanes)), Vector256.LoadUnsafe(ref ry, (nuint)(i + Lanes)), acc1);
        }
        for (; i + Lanes <= n; i += Lanes)
            acc0 = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref rx, (nuint)i), Vector256.LoadUnsafe(ref ry, (nuint)i), acc0);
        float s = Vector256.Sum(acc0 + acc1);
        for (; i < n; i++) s += Unsafe.Add(ref rx, i) * Unsafe.Add(ref ry, i);
        return s;
    }

    /// <summary>y += a x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddScaled(Span<float> y, float a, ReadOnlySpan<float> x)
    {
        int n = y.Length, i = 0;
        ref float rx = ref MemoryMarshal.GetReference(x);
        ref float ry = ref MemoryMarshal.GetReference(y);
        var va = Vector256.Create(a);
        for (; i + Lanes <= n; i += Lanes)
            Vector256.FusedMultiplyAdd(va, Vector256.LoadUnsafe(ref rx, (nuint)i), Vector256.LoadUnsafe(ref ry, (nuint)i)).StoreUnsafe(ref ry, (nuint)i);
        for (; i < n; i++) Unsafe.Add(ref ry, i) += a * Unsafe.Add(ref rx, i);
    }

    /// <summary>x *= a.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scale(Span<float> x, float a)
    {
        int n = x.Length, i = 0;
        ref float rx = ref MemoryMarshal.GetReference(x);
        var va = Vector256.Create(a);
        for (; i + Lanes <= n; i += Lanes) (Vector256.LoadUnsafe(ref rx, (nuint)i) * va).StoreUnsafe(ref rx, (nuint)i);
        for (; i < n; i++) Unsafe.Add(ref rx, i) *= a;
    }

    /// <summary>Each row of x [rows, d] becomes LayerNorm(x + residual) (residual may be empty), in place; biased variance as torch.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddLayerNorm(Span<float> x, ReadOnlySpan<float> residual, int d, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, float eps)
    {
        for (int r = 0; r + d <= x.Length; r += d)
        {
            var row = x.Slice(r, d);
            if (!residual.IsEmpty) AddScaled(row, 1f, residual.Slice(r, d));
            float mean = Sum(row) / d;
            var centred = Vector256.Create(mean);
            float variance = 0;
            int i = 0;
            ref float rr = ref MemoryMarshal.GetReference(row);
            var acc = Vector256<float>.Zero;
            for (; i + Lanes <= d; i += Lanes)
            {
                var e = Vector256.LoadUnsafe(ref rr, (nuint)i) - centred;
                acc = Vector256.FusedMultiplyAdd(e, e, acc);
            }
            variance = Vector256.Sum(acc);
            for (; i < d; i++) { float e = row[i] - mean; variance += e * e; }
            float inv = 1f / MathF.Sqrt(variance / d + eps);
            var vinv = Vector256.Create(inv);
            ref float rg = ref MemoryMarshal.GetReference(gamma);
            ref float rbeta = ref MemoryMarshal.GetReference(beta);
            for (i = 0; i + Lanes <= d; i += Lanes)
            {
                var normed = (Vector256.LoadUnsafe(ref rr, (nuint)i) - centred) * vinv;
                Vector256.FusedMultiplyAdd(normed, Vector256.LoadUnsafe(ref rg, (nuint)i), Vector256.LoadUnsafe(ref rbeta, (nuint)i)).StoreUnsafe(ref rr, (nuint)i);
            }
            for (; i < d; i++) row[i] = (row[i] - mean) * inv * gamma[i] + beta[i];
        }
    }

    /// <summary>
    /// x becomes total * softmax(scale x), in place (scale &gt; 0): the max subtracted first, as torch does, so exp never
    /// overflows; -inf entries get 0. Returns log sum_j exp(scale x_j), the normaliser a cross-entropy needs. Three passes
    /// over a row that stays in L1 (max; exp and sum; scale); the exponential is <see cref="ExpUpToZero"/>, since .NET's
    /// Vector256.Exp took most of a row's time (docs/speed.md).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Softmax(Span<float> x, float scale, float total = 1f)
    {
        int n = x.Length, i = 0;
        ref float r = ref MemoryMarshal.GetReference(x);
        // MaxNative (vmaxps): a row holds no NaN worth propagating, and Vector256.Max's IEEE rules cost extra blends.
        var vmax0 = Vector256.Create(float.NegativeInfinity);
        var vmax1 = vmax0;
        for (; i + 2 * Lanes <= n; i += 2 * Lanes)
        {
            vmax0 = Vector256.MaxNative(vmax0, Vector256.LoadUnsafe(ref r, (nuint)i));
            vmax1 = Vector256.MaxNative(vmax1, Vector256.LoadUnsafe(ref r, (nuint)(i + Lanes)));
        }
        var vmax = Vector256.MaxNative(vmax0, vmax1);
        float max = float.NegativeInfinity;
        for (int l = 0; l < Lanes; l++) max = MathF.Max(max, vmax.GetElement(l));
        for (; i < n; i++) max = MathF.Max(max, Unsafe.Add(ref r, i));
        // exp(scale (x - max)) <= exp(0) = 1. Two vectors per turn: two independent polynomial chains to overlap.
        var vscale = Vector256.Create(scale);
        var shift = Vector256.Create(-scale * max);
        var acc0 = Vector256<float>.Zero;
        var acc1 = Vector256<float>.Zero;
        for (i = 0; i + 2 * Lanes <= n; i += 2 * Lanes)
        {
            var e0 = ExpUpToZero(Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref r, (nuint)i), vscale, shift));
            var e1 = ExpUpToZero(Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref r, (nuint)(i + Lanes)), vscale, shift));
            e0.StoreUnsafe(ref r, (nuint)i);
            e1.StoreUnsafe(ref r, (nuint)(i + Lanes));
            acc0 += e0;
            acc1 += e1;
        }
        float sum = Vector256.Sum(acc0 + acc1);
        for (; i < n; i++) sum += Unsafe.Add(ref r, i) = ExpUpToZero(Vector256.Create(Unsafe.Add(ref r, i) * scale - scale * max)).GetElement(0);
        Scale(x, total / sum);
        return scale * max + MathF.Log(sum);
    }

    /// <summary>
    /// One row of the full-softmax cross-entropy, in place: the logits z become its gradient (softmax(z) - onehot(target))
    /// * share, and -log softmax(z)_target is returned (as logsumexp(z) - z_target: no log of an underflowed probability).
    /// </summary>
    public static float CrossEntropyRow(Span<float> z, int target, float share)
    {
        float logit = z[target];
        float normaliser = Softmax(z, 1f, share);
        z[target] -= share;
        return normaliser - logit;
    }

    /// <summary>
    /// exp(x) for x &lt;= 0 in single precision (what a softmax needs once its max is subtracted): x = n ln 2 + f with
    /// n = round(x / ln 2), |f| &lt;= ln 2 / 2, exp(f) by its degree-6 polynomial (Cephes' expf coefficients), times 2^n built in the exponent
    /// bits. Within 2 float ulps of exp down to -87.3, where float's normal range ends; below it (and at -inf) it is 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> ExpUpToZero(Vector256<float> x)
    {
        var lowest = Vector256.Create(-87.3f);
        var underflow = Vector256.LessThan(x, lowest);
        x = Vector256.MaxNative(x, lowest);
        // n = round(x / ln 2) by the 1.5 * 2^23 trick: adding it leaves n in the low mantissa bits of t (no float-to-int
        // conversion, which .NET emulates without AVX-512).
        var magic = Vector256.Create(12582912f);
        var t = Vector256.FusedMultiplyAdd(x, Vector256.Create(1.44269504088896341f), magic);
        var n = t - magic;
        // f = x - n ln 2, with ln 2 split in two so that n * hi is exact.
        var f = Vector256.FusedMultiplyAdd(n, Vector256.Create(-0.693359375f), x);
        f = Vector256.FusedMultiplyAdd(n, Vector256.Create(2.12194440e-4f), f);
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(1.9875691500e-4f), f, Vector256.Create(1.3981999507e-3f));
        p = Vector256.FusedMultiplyAdd(p, f, Vector256.Create(8.3334519073e-3f));
        p = Vector256.FusedMultiplyAdd(p, f, Vector256.Create(4.1665795894e-2f));
        p = Vector256.FusedMultiplyAdd(p, f, Vector256.Create(1.6666665459e-1f));
        p = Vector256.FusedMultiplyAdd(p, f, Vector256.Create(5.0000001201e-1f));
        p = Vector256.FusedMultiplyAdd(p, f * f, f + Vector256<float>.One);
        // t's bits are 0x4B400000 + n; shifted by 23 the constant leaves the word, so this is (n + 127) << 23 = 2^n.
        var pow2 = (t.AsInt32() + Vector256.Create(127)) << 23;
        return Vector256.AndNot(p * pow2.AsSingle(), underflow);
    }

    /// <summary>
    /// The k largest entries of <paramref name="values"/> (indices and values), best first; ties to the lower index.
    /// Once k are held, blocks of 8 with nothing above the current k-th value are skipped with one vector compare:
    /// past the first few hundred entries almost every block is, so a row costs about a compare per 8 entries.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int SelectTop(ReadOnlySpan<float> values, int k, int[] indices, float[] best)
    {
        int count = 0, n = values.Length, i = 0;
        for (; i < n && count < k; i++) Insert(values[i], i, ref count, k, indices, best);
        if (count < k) return count;
        ref float r = ref MemoryMarshal.GetReference(values);
        for (; i + Lanes <= n; i += Lanes)
        {
            if (!Vector256.GreaterThanAny(Vector256.LoadUnsafe(ref r, (nuint)i), Vector256.Create(best[k - 1]))) continue;
            for (int j = i; j < i + Lanes; j++)
                if (Unsafe.Add(ref r, j) > best[k - 1]) Insert(Unsafe.Add(ref r, j), j, ref count, k, indices, best);
        }
        for (; i < n; i++)
            if (values[i] > best[k - 1]) Insert(values[i], i, ref count, k, indices, best);
        return count;
    }

    /// <summary>Puts (v, index) into the sorted best-first list, dropping its last entry when it is full.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Insert(float v, int index, ref int count, int k, int[] indices, float[] best)
    {
        int at = count < k ? count++ : k - 1;
        while (at > 0 && v > best[at - 1])
        {
            best[at] = best[at - 1];
            indices[at] = indices[at - 1];
            at--;
        }
        best[at] = v;
        indices[at] = index;
    }

    /// <summary>Sum of x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Sum(ReadOnlySpan<float> x)
    {
        int i = 0;
        ref float r = ref MemoryMarshal.GetReference(x);
        var acc = Vector256<float>.Zero;
        for (; i + Lanes <= x.Length; i += Lanes) acc += Vector256.LoadUnsafe(ref r, (nuint)i);
        float s = Vector256.Sum(acc);
        for (; i < x.Length; i++) s += x[i];
        return s;
    }

    /// <summary>dst [cols, rows] = src [rows, cols] read with a row stride of <paramref name="stride"/> from <paramref name="offset"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Transpose(ReadOnlySpan<float> src, int rows, int cols, int stride, int offset, Span<float> dst)
    {
        for (int r = 0; r < rows; r++)
        {
            var row = src.Slice(r * stride + offset, cols);
            for (int c = 0; c < cols; c++) dst[c * rows + r] = row[c];
        }
    }

    /// <summary>The exact GELU, x Phi(x) = x/2 (1 + erf(x / sqrt 2)), as torch's default, in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gelu(Span<float> x)
    {
        int n = x.Length, i = 0;
        ref float r = ref MemoryMarshal.GetReference(x);
        var half = Vector256.Create(0.5f);
        var one = Vector256.Create(1f);
        var scale = Vector256.Create(0.70710678118654752f);
        for (; i + Lanes <= n; i += Lanes)
        {
            var v = Vector256.LoadUnsafe(ref r, (nuint)i);
            (half * v * (one + Erf(v * scale))).StoreUnsafe(ref r, (nuint)i);
        }
        for (; i < n; i++)
        {
            float v = Unsafe.Add(ref r, i);
            Unsafe.Add(ref r, i) = 0.5f * v * (1f + Erf(Vector256.Create(v * 0.70710678118654752f)).GetElement(0));
        }
    }

    /// <summary>
    /// erf in single precision: the odd/even rational minimax form x P(x^2) / Q(x^2) on [-4, 4] (erf is +-1 in float
    /// beyond), as the vectorised math libraries use; within a few float ulps of the exact value (a test checks it).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static Vector256<float> Erf(Vector256<float> value)
    {
        var x = Vector256.Min(Vector256.Max(value, Vector256.Create(-4f)), Vector256.Create(4f));
        var x2 = x * x;
        var p = Vector256.FusedMultiplyAdd(x2, Vector256.Create(-2.72614225801306e-10f), Vector256.Create(2.77068142495902e-08f));
        p = Vector256.FusedMultiplyAdd(x2, p, Vector256.Create(-2.10102402082508e-06f));
        p = Vector256.FusedMultiplyAdd(x2, p, Vector256.Create(-5.69250639462346e-05f));
        p = Vector256.FusedMultiplyAdd(x2, p, Vector256.Create(-7.34990630326855e-04f));
        p = Vector256.FusedMultiplyAdd(x2, p, Vector256.Create(-2.95459980854025e-03f));
        p = Vector256.FusedMultiplyAdd(x2, p, Vector256.Create(-1.60960333262415e-02f));
        p *= x;
        var q = Vector256.FusedMultiplyAdd(x2, Vector256.Create(-1.45660718464996e-05f), Vector256.Create(-2.13374055278905e-04f));
        q = Vector256.FusedMultiplyAdd(x2, q, Vector256.Create(-1.68282697438203e-03f));
        q = Vector256.FusedMultiplyAdd(x2, q, Vector256.Create(-7.37332916720468e-03f));
        q = Vector256.FusedMultiplyAdd(x2, q, Vector256.Create(-1.42647390514189e-02f));
        return p / q;
    }
}
