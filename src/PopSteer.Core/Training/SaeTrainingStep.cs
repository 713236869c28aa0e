using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using PopSteer.Core.Model;
using PopSteer.Core.Scoring;
using TorchSharp;
using static TorchSharp.torch;

namespace PopSteer.Core.Training;

/// <summary>
/// One SAE training step on the CPU in managed code: the loss of <see cref="SaeTrainer.Loss"/> (FVU + weighted L_aux),
/// its gradients and <see cref="FusedAdam"/>'s update with the unit-norm decoder steps, written straight into the
/// SAE's parameter storage. At batch 64 the autograd step is some forty small libtorch calls, 3-5 ms at ML-1M size
/// (`PopSteer.Bench train-profile`), for about 35 MFLOP; here a step is two parallel passes over the weights.
/// <list type="number">
/// <item>Rows, split over the torch threads: the encoder product for the part's rows as z^T = W_enc (x - b_dec)^T
/// (one pass over W_enc, [h, rows] out), the top-k and the dead latents' top-k_aux read column by column from it, the
/// decode from the chosen rows of W_dec, the loss and its backward down to the chosen latents: for each (latent, row)
/// pair dL/dz and the activation a.</item>
/// <item>Latents, split over the torch threads: each latent's gradient rows from its pairs (W_enc: sum dL/dz (x - b_dec),
/// W_dec: sum a dL/dx_hat), then Adam on the row, W_dec's gradient first projected off the row and the row renormalised
/// after. A latent no row chose still takes Adam's step with a zero gradient, as the dense update does.</item>
/// </list>
/// FastTrainingTests hold the loss, every gradient and the parameters after many steps to the autograd step's.
/// </summary>
internal sealed class SaeTrainingStep
{
    private const int MinRowsPerPart = 16;
    private readonly TopKSae _sae;
    private readonly Tensor _vectors;
    private readonly int _d, _h, _k, _kAux, _maxRows;
    private readonly double _auxWeight;
    private readonly bool _unitNorm;
    private readonly float[] _mEnc, _vEnc, _mEncBias, _vEncBias, _mDec, _vDec, _mDecBias, _vDecBias;
    private readonly float[] _x, _centred, _dxHat, _dResidualHat; // [rows, d]: x, x - b_dec, dL/dx_hat, dL/de_hat
    private readonly double[] _mean;
    private readonly float[] _decoderBiasGrad;
    private readonly long[] _rows;
    private readonly int[] _allLatents;
    private readonly RowPart[] _rowParts;
    private readonly LatentPart[] _latentParts;
    private readonly int[] _pairStart, _pairFill; // the pairs of latent j: _pairs[_pairStart[j] .. _pairStart[j + 1])
    private readonly Pair[] _pairs;
    private int[] _dead = [];
    private long _step;

    public SaeTrainingStep(TopKSae sae, Tensor vectors, int maxRows, double learningRate, double auxWeight, bool unitNormDecoder)
    {
        if (!Supports(sae, vectors)) throw new ArgumentException("The managed SAE step needs contiguous float32 CPU parameters and vectors [n, d].");
        if (maxRows < 2) throw new ArgumentOutOfRangeException(nameof(maxRows), maxRows, "must be at least 2");
        (_sae, _vectors, _maxRows, _auxWeight, _unitNorm, LearningRate) = (sae, vectors, maxRows, auxWeight, unitNormDecoder, learningRate);
        (_d, _h, _k, _kAux) = (sae.Config.InputDim, sae.Width, sae.Config.K, sae.Config.KAux);
        (_mEnc, _vEnc, _mDec, _vDec) = (new float[_h * _d], new float[_h * _d], new float[_h * _d], new float[_h * _d]);
        (_mEncBias, _vEncBias, _mDecBias, _vDecBias) = (new float[_h], new float[_h], new float[_d], new float[_d]);
        (_x, _centred, _dxHat, _dResidualHat) = (new float[maxRows * _d], new float[maxRows * _d], new float[maxRows * _d], new float[maxRows * _d]);
        (_mean, _decoderBiasGrad, _rows) = (new double[_d], new float[_d], new long[maxRows]);
        _allLatents = Enumerable.Range(0, _h).ToArray();
        int threads = Math.Max(1, get_num_threads());
        int rowParts = Math.Clamp(maxRows / MinRowsPerPart, 1, threads);
        // A smaller batch may split into fewer parts (16 rows each at least), each then under 2 x 16 rows.
        int partRows = Math.Min(maxRows, Math.Max((maxRows + rowParts - 1) / rowParts, 2 * MinRowsPerPart));
        _rowParts = Enumerable.Range(0, rowParts).Select(_ => new RowPart(partRows, _d, _h, _k, _kAux)).ToArray();
        _latentParts = Enumerable.Range(0, Math.Min(threads, _h)).Select(_ => new LatentPart(_d, (_h + threads - 1) / threads)).ToArray();
        (_pairStart, _pairFill, _pairs) = (new int[_h + 1], new int[_h], new Pair[maxRows * (_k + _kAux)]);
        Fired = new bool[_h];
    }

    /// <summary>True where this step can train <paramref name="sae"/> on <paramref name="vectors"/>: everything contiguous float32 on the CPU.</summary>
    public static bool Supports(TopKSae sae, Tensor vectors) =>
        new[] { sae.EncoderWeight, sae.EncoderBias, sae.DecoderWeight, sae.DecoderBias, vectors }.All(t =>
            t.device_type == DeviceType.CPU && t.dtype == ScalarType.Float32 && t.is_contiguous() && t.numel() < int.MaxValue)
        && vectors.dim() == 2 && vectors.shape[1] == sae.Config.InputDim;

    public double LearningRate { get; set; }

    /// <summary>Latents that fired (a &gt; 0) since the caller last cleared this.</summary>
    public bool[] Fired { get; }

    /// <summary>The dead latents L_aux ranks (empty: no auxiliary loss).</summary>
    public void SetDead(IEnumerable<long> latents) => _dead = latents.Select(j => checked((int)j)).ToArray();

    /// <summary>One step on the given rows of the training vectors; returns the batch's loss before the step.</summary>
    public double Step(ReadOnlySpan<long> sample, TrainingProfile? profile = null)
    {
        int rows = sample.Length;
        if (rows < 2 || rows > _maxRows) throw new ArgumentOutOfRangeException(nameof(sample), rows, $"a batch holds 2..{_maxRows} rows");
        sample.CopyTo(_rows);
        double total = Gather(rows);
        profile?.Lap("batch gather + centring");

        bool aux = _dead.Length > 0 && _auxWeight != 0;
        int kAux = aux ? Math.Min(_kAux, _dead.Length) : 0;
        double auxScale = aux ? Math.Min((double)_dead.Length / _kAux, 1.0) * _auxWeight : 0;
        var gradients = new RowGradients((float)(2 / total), (float)(2 * auxScale / total), kAux);
        int parts = Math.Clamp(rows / MinRowsPerPart, 1, _rowParts.Length);
        Run(parts, p => Rows(p * rows / parts, (p + 1) * rows / parts, _rowParts[p], gradients));
        profile?.Lap("rows: encoder, top-k, decode, loss, backward to the chosen latents");

        SortPairs(parts);
        var adam = FusedAdam.Constants.At(++_step, LearningRate);
        Run(_latentParts.Length, p => Latents(p * _h / _latentParts.Length, (p + 1) * _h / _latentParts.Length, _latentParts[p], adam));
        Array.Clear(_decoderBiasGrad);
        double error = 0, auxError = 0;
        for (int p = 0; p < parts; p++)
        {
            DenseKernels.AddScaled(_decoderBiasGrad, 1f, _rowParts[p].DecoderBiasGrad);
            (error, auxError) = (error + _rowParts[p].Error, auxError + _rowParts[p].AuxError);
        }
        FusedAdam.Update(Floats(_sae.DecoderBias), _decoderBiasGrad, _mDecBias, _vDecBias, adam);
        profile?.Lap("latents: gradient rows, Adam, unit-norm decoder");
        return (error + auxScale * auxError) / total;
    }

    private readonly record struct RowGradients(float Main, float Aux, int KAux);

    /// <summary>A (latent, row) pair of the backward: dL/dz at it, its activation, and which reconstruction it fed.</summary>
    private struct Pair
    {
        public int Latent, Row;
        public float Dz, Activation;
        public bool Aux;
    }

    // Copies the batch's vectors, centres them on b_dec and returns FVU's denominator, sum ||x - mean(x)||^2.
    private double Gather(int rows)
    {
        var vectors = Floats(_vectors);
        var bias = Floats(_sae.DecoderBias);
        Array.Clear(_mean);
        for (int r = 0; r < rows; r++)
        {
            var x = _x.AsSpan(r * _d, _d);
            vectors.Slice(checked((int)(_rows[r] * _d)), _d).CopyTo(x);
            var c = _centred.AsSpan(r * _d, _d);
            for (int q = 0; q < _d; q++)
            {
                c[q] = x[q] - bias[q];
                _mean[q] += x[q];
            }
        }
        for (int q = 0; q < _d; q++) _mean[q] /= rows;
        double total = 0;
        for (int r = 0; r < rows; r++)
            for (int q = 0; q < _d; q++)
            {
                double u = _x[r * _d + q] - _mean[q];
                total += u * u;
            }
        return (float)total; // summed in double, rounded to float as the autograd step holds it
    }

    private void Rows(int r0, int r1, RowPart part, RowGradients g)
    {
        int n = r1 - r0, d = _d;
        var wEnc = Floats(_sae.EncoderWeight);
        var bEnc = Floats(_sae.EncoderBias);
        var wDec = Floats(_sae.DecoderWeight);
        var bDec = Floats(_sae.DecoderBias);
        for (int i = 0; i < n; i++)
            for (int q = 0; q < d; q++) part.CentredT[q * n + i] = _centred[(r0 + i) * d + q];
        DenseKernels.MatMul(wEnc, _h, d, part.CentredT, n, part.Zero, part.ZT); // z^T without b_enc
        SelectColumns(part.ZT, n, bEnc, _allLatents, _k, part.Top, part.TopValues, part.TopCount, part.Threshold);
        // A dead latent whose z is not above 0 adds nothing to e_hat or to any gradient (ReLU), so the auxiliary top-k
        // keeps only positive values: the same loss and gradients, and far fewer candidates once thousands are dead.
        if (g.KAux > 0) SelectColumns(part.ZT, n, bEnc, _dead, g.KAux, part.Aux, part.AuxValues, part.AuxCount, part.Threshold, floor: float.Epsilon);
        (part.Error, part.AuxError, part.PairCount) = (0, 0, 0);
        Array.Clear(part.DecoderBiasGrad);
        var err = part.Err;
        var dc = part.Dc;
        for (int i = 0; i < n; i++)
        {
            int r = r0 + i;
            var xHat = part.Reconstruction;
            bDec.CopyTo(xHat);
            Decode(xHat, part.Top[i], part.TopValues[i], part.TopCount[i], wDec, mark: true);
            var dx = _dxHat.AsSpan(r * d, d);
            part.Error += Difference(xHat, _x.AsSpan(r * d, d), err, g.Main, dx); // err = x_hat - x, dL/dx_hat = 2 err / T
            Array.Clear(dc);
            Backward(r, part.Top[i], part.TopValues[i], part.TopCount[i], dx, wEnc, wDec, part, aux: false);
            if (g.KAux > 0)
            {
                // e = x - x_hat is a constant here, so L_aux's residual error is e_hat - e = e_hat + err.
                var eHat = part.Reconstruction;
                Array.Clear(eHat);
                Decode(eHat, part.Aux[i], part.AuxValues[i], part.AuxCount[i], wDec, mark: false);
                DenseKernels.Scale(err, -1f);
                var de = _dResidualHat.AsSpan(r * d, d);
                part.AuxError += Difference(eHat, err, err, g.Aux, de);
                Backward(r, part.Aux[i], part.AuxValues[i], part.AuxCount[i], de, wEnc, wDec, part, aux: true);
            }
            // b_dec enters x_hat directly and every z through x - b_dec.
            for (int q = 0; q < d; q++) part.DecoderBiasGrad[q] += dx[q] - dc[q];
        }
    }

    // out += sum a_j W_dec[j] over the active chosen latents (a = ReLU(z) > 0), marking them as fired.
    private void Decode(Span<float> output, int[] latents, float[] z, int count, ReadOnlySpan<float> wDec, bool mark)
    {
        for (int t = 0; t < count; t++)
        {
            if (!(z[t] > 0)) continue;
            DenseKernels.AddScaled(output, z[t], wDec.Slice(latents[t] * _d, _d));
            if (mark) Fired[latents[t]] = true;
        }
    }

    // diff = a - b (may alias b); gradient = scale * diff; returns sum diff^2.
    private static double Difference(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> diff, float scale, Span<float> gradient)
    {
        double sum = 0;
        for (int q = 0; q < a.Length; q++)
        {
            float u = a[q] - b[q];
            diff[q] = u;
            sum += u * u;
            gradient[q] = scale * u;
        }
        return sum;
    }

    // dL/dz_j = W_dec[j] . dL/dx_hat for each active chosen latent; its share of dL/d(x - b_dec) goes into the part's Dc.
    private void Backward(int row, int[] latents, float[] z, int count, ReadOnlySpan<float> gradient, ReadOnlySpan<float> wEnc, ReadOnlySpan<float> wDec, RowPart part, bool aux)
    {
        for (int t = 0; t < count; t++)
        {
            if (!(z[t] > 0)) continue; // ReLU: no gradient below zero, and a = 0 writes nothing
            int j = latents[t];
            float dz = DenseKernels.Dot(wDec.Slice(j * _d, _d), gradient);
            DenseKernels.AddScaled(part.Dc, dz, wEnc.Slice(j * _d, _d));
            part.Pairs[part.PairCount++] = new Pair { Latent = j, Row = row, Dz = dz, Activation = z[t], Aux = aux };
        }
    }

    /// <summary>
    /// For each of the n columns of z^T [h, n] (z = z^T + b_enc), the k largest among <paramref name="latents"/>: the set
    /// <see cref="DenseKernels.SelectTop"/> picks (ties to the lower latent), in no particular order, in the first
    /// counts[c] entries of indices[c] / values[c] (arrays of <see cref="Candidates"/>(k)). Eight columns at a time:
    /// the latents split into k groups, and the smallest of the groups' maxima bounds the k-th value from below (k
    /// values, one per group, reach it); only what reaches that bound is kept (about 4k on uniform values) and a quickselect ends
    /// it. Kept in a min-heap or a sorted list instead, every latent above the running k-th value cost a mispredicted
    /// walk: 3-4x the time at k = 32 of 4,096. Values below <paramref name="floor"/> are never kept, so a column may
    /// end with fewer than k: the top k of those at or above it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void SelectColumns(float[] zT, int n, ReadOnlySpan<float> bias, ReadOnlySpan<int> latents, int k,
        int[][] indices, float[][] values, int[] counts, float[] threshold, float floor = float.NegativeInfinity)
    {
        Array.Clear(counts, 0, n);
        int total = latents.Length;
        if (total <= k)
        {
            foreach (int j in latents)
                for (int c = 0; c < n; c++)
                {
                    float v = zT[j * n + c] + bias[j];
                    if (v >= floor) (values[c][counts[c]], indices[c][counts[c]++]) = (v, j);
                }
            return;
        }
        ref float z = ref MemoryMarshal.GetReference(zT.AsSpan());
        ref float bound = ref MemoryMarshal.GetReference(threshold.AsSpan());
        int capacity = Candidates(k), group = total / k, blocks = n / 8;
        // Both passes walk the latents in order, all columns of a latent's row together: z^T is read twice, in order.
        Span<Vector256<float>> highest = stackalloc Vector256<float>[blocks];
        Span<Vector256<float>> lowest = stackalloc Vector256<float>[blocks];
        lowest.Fill(Vector256.Create(float.PositiveInfinity));
        for (int g = 0; g < k; g++)
        {
            highest.Fill(Vector256.Create(float.NegativeInfinity));
            int end = g == k - 1 ? total : (g + 1) * group;
            for (int t = g * group; t < end; t++)
            {
                int j = latents[t];
                var b = Vector256.Create(bias[j]);
                for (int q = 0; q < blocks; q++) highest[q] = Vector256.Max(highest[q], Vector256.LoadUnsafe(ref z, (nuint)(j * n + 8 * q)) + b);
            }
            for (int q = 0; q < blocks; q++) lowest[q] = Vector256.Min(lowest[q], highest[q]);
        }
        var least = Vector256.Create(floor);
        for (int q = 0; q < blocks; q++) Vector256.Max(lowest[q], least).StoreUnsafe(ref bound, (nuint)(8 * q));
        for (int c = 8 * blocks; c < n; c++) threshold[c] = MathF.Max(GroupBound(zT, n, c, bias, latents, k, group), floor);

        foreach (int j in latents)
        {
            float b = bias[j];
            var vb = Vector256.Create(b);
            for (int q = 0; q < blocks; q++)
            {
                var block = Vector256.LoadUnsafe(ref z, (nuint)(j * n + 8 * q)) + vb;
                uint reach = Vector256.GreaterThanOrEqual(block, Vector256.LoadUnsafe(ref bound, (nuint)(8 * q))).ExtractMostSignificantBits();
                while (reach != 0)
                {
                    int c = 8 * q + System.Numerics.BitOperations.TrailingZeroCount(reach);
                    reach &= reach - 1;
                    int at = counts[c];
                    if (at == capacity - 1) { Keep(c, block.GetElement(c - 8 * q), j); continue; }
                    counts[c] = at + 1;
                    values[c][at] = block.GetElement(c - 8 * q);
                    indices[c][at] = j;
                }
            }
            for (int c = 8 * blocks; c < n; c++)
                if (zT[j * n + c] + b >= threshold[c]) Keep(c, zT[j * n + c] + b, j);
        }
        for (int c = 0; c < n; c++)
            if (counts[c] > k)
            {
                SelectBest(values[c], indices[c], counts[c], k);
                counts[c] = k;
            }

        void Keep(int c, float v, int j)
        {
            int at = counts[c]++;
            (values[c][at], indices[c][at]) = (v, j);
            if (counts[c] < capacity) return;
            // More reached the bound than there is room for (many equal values): keep the k best, raise the bound.
            SelectBest(values[c], indices[c], capacity, k);
            counts[c] = k;
            threshold[c] = Smallest(values[c].AsSpan(0, k));
        }
    }

    /// <summary>Room for the values that reach a column's bound.</summary>
    internal static int Candidates(int k) => Math.Max(8 * k, 64);

    // One column's smallest group maximum (a batch whose row count is not a multiple of 8 has a few such columns).
    private static float GroupBound(float[] zT, int n, int c, ReadOnlySpan<float> bias, ReadOnlySpan<int> latents, int k, int group)
    {
        float lowest = float.PositiveInfinity;
        for (int g = 0; g < k; g++)
        {
            float highest = float.NegativeInfinity;
            int end = g == k - 1 ? latents.Length : (g + 1) * group;
            for (int t = g * group; t < end; t++) highest = MathF.Max(highest, zT[latents[t] * n + c] + bias[latents[t]]);
            lowest = MathF.Min(lowest, highest);
        }
        return lowest;
    }

    /// <summary>Reorders the first m (value, latent) pairs so that the k best come first (quickselect; latents are distinct).</summary>
    private static void SelectBest(float[] values, int[] latents, int m, int k)
    {
        int lo = 0, hi = m - 1;
        while (lo < hi)
        {
            int mid = (lo + hi) >> 1;
            // Median of three as the pivot, moved to hi.
            if (Better(values[mid], latents[mid], values[lo], latents[lo])) Swap(values, latents, mid, lo);
            if (Better(values[hi], latents[hi], values[lo], latents[lo])) Swap(values, latents, hi, lo);
            if (Better(values[mid], latents[mid], values[hi], latents[hi])) Swap(values, latents, mid, hi);
            float pv = values[hi];
            int pl = latents[hi], store = lo;
            for (int i = lo; i < hi; i++)
                if (Better(values[i], latents[i], pv, pl)) Swap(values, latents, i, store++);
            Swap(values, latents, store, hi);
            if (store == k || store == k - 1) return;
            if (store < k) lo = store + 1;
            else hi = store - 1;
        }
    }

    private static float Smallest(ReadOnlySpan<float> values)
    {
        float min = float.PositiveInfinity;
        foreach (float v in values) min = MathF.Min(min, v);
        return min;
    }

    // Ranks above: a larger value, or the same value at a lower latent.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Better(float v, int latent, float than, int thanLatent) => v > than || (v == than && latent < thanLatent);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Swap(float[] values, int[] latents, int a, int b)
    {
        (values[a], values[b]) = (values[b], values[a]);
        (latents[a], latents[b]) = (latents[b], latents[a]);
    }

    // Groups the parts' pairs by latent (counting sort; rows stay in order within a latent).
    private void SortPairs(int parts)
    {
        Array.Clear(_pairStart);
        for (int p = 0; p < parts; p++)
            for (int s = 0; s < _rowParts[p].PairCount; s++) _pairStart[_rowParts[p].Pairs[s].Latent + 1]++;
        for (int j = 0; j < _h; j++) _pairStart[j + 1] += _pairStart[j];
        Array.Copy(_pairStart, _pairFill, _h);
        for (int p = 0; p < parts; p++)
            for (int s = 0; s < _rowParts[p].PairCount; s++)
            {
                ref var pair = ref _rowParts[p].Pairs[s];
                _pairs[_pairFill[pair.Latent]++] = pair;
            }
    }

    /// <summary>The last step's gradient of b_dec.</summary>
    internal ReadOnlySpan<float> DecoderBiasGradient => _decoderBiasGrad;

    /// <summary>Latent j's gradients from its pairs: W_enc's row, W_dec's row (before the unit-norm projection) and b_enc's entry.</summary>
    internal float LatentGradients(int j, Span<float> encoder, Span<float> decoder)
    {
        encoder.Clear();
        decoder.Clear();
        float bias = 0;
        for (int s = _pairStart[j]; s < _pairStart[j + 1]; s++)
        {
            ref var pair = ref _pairs[s];
            DenseKernels.AddScaled(encoder, pair.Dz, _centred.AsSpan(pair.Row * _d, _d));
            DenseKernels.AddScaled(decoder, pair.Activation, (pair.Aux ? _dResidualHat : _dxHat).AsSpan(pair.Row * _d, _d));
            bias += pair.Dz;
        }
        return bias;
    }

    private void Latents(int j0, int j1, LatentPart part, FusedAdam.Constants adam)
    {
        var wEnc = Floats(_sae.EncoderWeight);
        var bEnc = Floats(_sae.EncoderBias);
        var wDec = Floats(_sae.DecoderWeight);
        for (int j = j0; j < j1; j++)
        {
            part.EncoderBias[j - j0] = LatentGradients(j, part.Encoder, part.Decoder);
            var at = new Range(j * _d, (j + 1) * _d);
            FusedAdam.Update(wEnc[at], part.Encoder, _mEnc.AsSpan(at), _vEnc.AsSpan(at), adam);
            var row = wDec[at];
            if (_unitNorm) DenseKernels.AddScaled(part.Decoder, -DenseKernels.Dot(part.Decoder, row), row);
            FusedAdam.Update(row, part.Decoder, _mDec.AsSpan(at), _vDec.AsSpan(at), adam);
            if (_unitNorm) DenseKernels.Scale(row, 1f / MathF.Max(MathF.Sqrt(DenseKernels.Dot(row, row)), 1e-12f));
        }
        FusedAdam.Update(bEnc[j0..j1], part.EncoderBias.AsSpan(0, j1 - j0), _mEncBias.AsSpan(j0..j1), _vEncBias.AsSpan(j0..j1), adam);
    }

    private static void Run(int parts, Action<int> body)
    {
        if (parts == 1) body(0);
        else Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, body);
    }

    // A tensor's CPU storage as floats (a view: writes land in the tensor).
    private static Span<float> Floats(Tensor t) => MemoryMarshal.Cast<byte, float>(t.bytes);

    private sealed class RowPart(int rows, int d, int h, int k, int kAux)
    {
        public readonly float[] CentredT = new float[d * rows], ZT = new float[h * rows], Zero = new float[rows], Threshold = new float[rows];
        public readonly int[][] Top = Jagged<int>(rows, Candidates(k)), Aux = Jagged<int>(rows, Candidates(kAux));
        public readonly float[][] TopValues = Jagged<float>(rows, Candidates(k)), AuxValues = Jagged<float>(rows, Candidates(kAux));
        public readonly int[] TopCount = new int[rows], AuxCount = new int[rows];
        public readonly float[] Reconstruction = new float[d], Err = new float[d], Dc = new float[d], DecoderBiasGrad = new float[d];
        public readonly Pair[] Pairs = new Pair[rows * (k + kAux)];
        public int PairCount;
        public double Error, AuxError;

        private static T[][] Jagged<T>(int rows, int width) => Enumerable.Range(0, rows).Select(_ => new T[width]).ToArray();
    }

    private sealed class LatentPart(int d, int latents)
    {
        public readonly float[] Encoder = new float[d], Decoder = new float[d], EncoderBias = new float[latents];
    }
}
