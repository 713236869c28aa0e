using System.Runtime.CompilerServices;
using PopSteer.Core.Model;
using static TorchSharp.torch;

namespace PopSteer.Core.Scoring;

/// <summary>
/// The same scoring as <see cref="PopSteerModel.Scores"/> (SASRec's last position, the SAE with z += shift, x . e_i,
/// top-k) in managed SIMD code over a copy of the weights. It began for the one-to-few-user batches a streaming Scorer
/// mostly sees, where libtorch spends its time per operation (about 45 native calls on tiny tensors per SASRec
/// forward), not per FLOP; computing each user alone at its own length (no padding, no mask), in groups of 8 that
/// share each weight pass, and split over threads, it outruns libtorch at large batches too. Position p of the window
/// holds item p, exactly as in the batched path. The last block computes only the last position, as
/// <see cref="SasRec.UserVectors"/> does. Rankings match the libtorch path (a test holds it to the reference maths);
/// scores agree to float rounding. Thread-safe: every thread has its own workspace. The compute methods are compiled
/// optimised at once (AggressiveOptimization): under tiered compilation a Scorer that starts into a stream ran these
/// loops unoptimised for seconds, fell behind and made ever larger, ever slower batches.
/// </summary>
internal sealed class SmallBatchScorer : IDisposable
{
    private readonly int _dim, _heads, _headDim, _ff, _maxLength, _items, _width, _k;
    private readonly float _eps, _attentionScale;
    private readonly float[] _itemTable, _positions, _embedGamma, _embedBeta;
    private readonly Block[] _blocks;
    private readonly float[] _itemsT, _scoreBias;                 // [d, n + 1], -inf at column 0 (padding)
    private readonly float[] _encoderT, _encoderBias, _decoder, _decoderBias;
    private readonly ThreadLocal<Workspace> _workspace;

    public SmallBatchScorer(SasRec sasRec, TopKSae sae)
    {
        var c = sasRec.Config;
        _dim = c.Dim; _heads = c.Heads; _headDim = c.Dim / c.Heads; _ff = c.FeedForward; _maxLength = c.MaxLength;
        _items = c.ItemCount; _eps = (float)c.LayerNormEps; _attentionScale = 1f / MathF.Sqrt(_headDim);
        _width = sae.Width; _k = sae.Config.K;
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var p = sasRec.named_parameters().ToDictionary(kv => kv.name, kv => (Tensor)kv.parameter);
        _itemTable = Copy(p["item_embedding.weight"]);
        _positions = Copy(p["position_embedding.weight"]);
        _embedGamma = Copy(p["layer_norm.weight"]);
        _embedBeta = Copy(p["layer_norm.bias"]);
        _blocks = Enumerable.Range(0, c.Blocks).Select(i => new Block(p, $"blocks.{i}.")).ToArray();
        _itemsT = Transposed(p["item_embedding.weight"]);
        _scoreBias = new float[_items + 1];
        _scoreBias[0] = float.NegativeInfinity;
        var s = sae.named_parameters().ToDictionary(kv => kv.name, kv => (Tensor)kv.parameter);
        _encoderT = Transposed(s["encoder_weight"]);
        _encoderBias = Copy(s["encoder_bias"]);
        _decoder = Copy(s["decoder_weight"]);
        _decoderBias = Copy(s["decoder_bias"]);
        _workspace = new ThreadLocal<Workspace>(() => new Workspace(_maxLength, _dim, _ff, _width, _items + 1));
    }

    /// <summary>
    /// Top-k per history, as <see cref="PopSteerModel.Recommend"/>; <paramref name="shift"/> only for PopSteer. With
    /// <paramref name="parallelism"/> above 1, a batch of at least <see cref="UsersPerThread"/> users per thread is split
    /// into that many contiguous parts scored at once (each thread has its own workspace; results keep their order).
    /// </summary>
    public RankedItem[][] Recommend(IReadOnlyList<int[]> histories, ScoringMethod method, float[]? shift, int k, bool excludeSeen, int parallelism = 1) =>
        Recommend(histories, method, shift, k, excludeSeen, parallelism, null, null);

    /// <summary>
    /// As <see cref="Recommend(IReadOnlyList{int[]}, ScoringMethod, float[], int, bool, int)"/>, and for each history
    /// marked in <paramref name="alsoPlain"/> also plain SASRec's top-k into <paramref name="plainLists"/>, from the
    /// same SASRec pass: the marked users' vectors are kept and scored against the item table in groups at the end.
    /// </summary>
    public RankedItem[][] Recommend(IReadOnlyList<int[]> histories, ScoringMethod method, float[]? shift, int k, bool excludeSeen, int parallelism,
        IReadOnlyList<bool>? alsoPlain, RankedItem[]?[]? plainLists)
    {
        if (alsoPlain is not null && (plainLists is null || alsoPlain.Count != histories.Count || plainLists.Length != histories.Count))
            throw new ArgumentException("alsoPlain and plainLists must both be given, one entry per history.", nameof(alsoPlain));
        // Checked here, on the caller's thread, so a bad history throws its own exception, not one wrapped by Parallel.For.
        for (int u = 0; u < histories.Count; u++)
        {
            var history = histories[u] ?? throw new ArgumentException($"History {u} is null.", nameof(histories));
            if (history.Length == 0) throw new ArgumentException($"History {u} is empty: a user needs at least one known item to be scored.", nameof(histories));
            foreach (int item in history.AsSpan(Math.Max(0, history.Length - _maxLength)))
                if (item < 1 || item > _items)
                    throw new ArgumentOutOfRangeException(nameof(histories), item, $"History {u} holds item id {item}, outside 1..{_items}.");
        }
        var result = new RankedItem[histories.Count][];
        int parts = Math.Clamp(histories.Count / UsersPerThread, 1, Math.Max(1, parallelism));
        if (parts == 1)
            Score(histories, 0, histories.Count, method, shift, k, excludeSeen, result, alsoPlain, plainLists);
        else
        {
            try
            {
                Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, part =>
                    Score(histories, part * histories.Count / parts, (part + 1) * histories.Count / parts, method, shift, k, excludeSeen, result, alsoPlain, plainLists));
            }
            catch (AggregateException e) when (e.InnerExceptions.Count == 1)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
            }
        }
        return result;
    }

    /// <summary>Below this many users per thread a split costs more (thread hand-off, a second workspace's caches) than it saves.</summary>
    public const int UsersPerThread = 8;

    /// <summary>
    /// Users whose SAE encode and item scores share one pass over the weights: both are [users, d] x [d, thousands]
    /// products that read about 1 MB of weights, so one user at a time is bound by memory, a group of 8 by the FMAs.
    /// </summary>
    private const int Group = 8;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Score(IReadOnlyList<int[]> histories, int from, int to, ScoringMethod method, float[]? shift, int k, bool excludeSeen, RankedItem[][] result,
        IReadOnlyList<bool>? alsoPlain, RankedItem[]?[]? plainLists)
    {
        var w = _workspace.Value!;
        int d = _dim, columns = _items + 1;
        int waiting = 0; // marked users whose SASRec vectors sit in w.PlainUsers, scored a group at a time
        for (int first = from; first < to; first += Group)
        {
            int m = Math.Min(Group, to - first);
            UserVectors(histories, first, m, w);
            if (alsoPlain is not null)
                for (int i = 0; i < m; i++)
                {
                    if (!alsoPlain[first + i]) continue;
                    w.Users.AsSpan(i * d, d).CopyTo(w.PlainUsers.AsSpan(waiting * d, d));
                    w.PlainIndex[waiting++] = first + i;
                    if (waiting == Group)
                    {
                        ScorePlain(histories, waiting, k, excludeSeen, plainLists!, w);
                        waiting = 0;
                    }
                }
            ReadOnlySpan<float> x = w.Users.AsSpan(0, m * d);
            if (method != ScoringMethod.SasRec) x = Reconstruct(w, m, method == ScoringMethod.PopSteer ? shift : null);
            var scores = w.Scores.AsSpan(0, m * columns);
            DenseKernels.MatMul(x, m, d, _itemsT, columns, _scoreBias, scores);
            for (int i = 0; i < m; i++)
                result[first + i] = Rank(scores.Slice(i * columns, columns), histories[first + i], k, excludeSeen);
        }
        if (waiting > 0) ScorePlain(histories, waiting, k, excludeSeen, plainLists!, w);
    }

    /// <summary>x . e_i and top-k for the <paramref name="count"/> SASRec vectors waiting in w.PlainUsers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ScorePlain(IReadOnlyList<int[]> histories, int count, int k, bool excludeSeen, RankedItem[]?[] plainLists, Workspace w)
    {
        int columns = _items + 1;
        var scores = w.Scores.AsSpan(0, count * columns);
        DenseKernels.MatMul(w.PlainUsers.AsSpan(0, count * _dim), count, _dim, _itemsT, columns, _scoreBias, scores);
        for (int i = 0; i < count; i++)
            plainLists[w.PlainIndex[i]] = Rank(scores.Slice(i * columns, columns), histories[w.PlainIndex[i]], k, excludeSeen);
    }

    /// <summary>The top-k of one user's item scores, the items of their history masked first when <paramref name="excludeSeen"/>.</summary>
    private RankedItem[] Rank(Span<float> row, int[] history, int k, bool excludeSeen)
    {
        if (excludeSeen)
            foreach (int item in history)
                if (item >= 1 && item <= _items) row[item] = float.NegativeInfinity;
        return Top(row, Math.Min(k, _items));
    }

    public void Dispose() => _workspace.Dispose();

    /// <summary>
    /// SASRec's output at the last of the (at most MaxLength) most recent items of users first .. first + m - 1, into
    /// the rows of w.Users. Stage by stage over the group: one block's weights (about 200 KB) stay in cache for all m
    /// users instead of being evicted, user after user, by the SAE encoder and the item table (about 2 MB together).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void UserVectors(IReadOnlyList<int[]> histories, int first, int m, Workspace w)
    {
        int d = _dim, window = _maxLength * d;
        Span<int> lengths = stackalloc int[m];
        for (int i = 0; i < m; i++)
        {
            int u = first + i;
            var history = histories[u];
            int length = lengths[i] = Math.Min(history.Length, _maxLength), start = history.Length - length;
            var hidden = w.Hidden.AsSpan(i * window, length * d);
            for (int t = 0; t < length; t++)
            {
                int item = history[start + t]; // in 1..items: checked by Recommend
                var row = hidden.Slice(t * d, d);
                _itemTable.AsSpan(item * d, d).CopyTo(row);
                DenseKernels.AddScaled(row, 1f, _positions.AsSpan(t * d, d));
            }
            DenseKernels.AddLayerNorm(hidden, default, d, _embedGamma, _embedBeta, _eps);
        }

        for (int b = 0; b < _blocks.Length - 1; b++)
        {
            var block = _blocks[b];
            for (int i = 0; i < m; i++)
            {
                int length = lengths[i];
                var hidden = w.Hidden.AsSpan(i * window, length * d);
                var qkv = w.Qkv.AsSpan(0, length * 3 * d);
                DenseKernels.MatMul(hidden, length, d, block.QkvT, 3 * d, block.QkvBias, qkv);
                var context = w.Context.AsSpan(0, length * d);
                CausalAttention(qkv, length, context, w);
                FeedForwardAndNorm(block, context, hidden, length, w);
                w.Output.AsSpan(0, length * d).CopyTo(hidden);
            }
        }

        // The last block: keys and values everywhere, everything else only at the last position.
        var last = _blocks[^1];
        for (int i = 0; i < m; i++)
        {
            int length = lengths[i];
            var hidden = w.Hidden.AsSpan(i * window, length * d);
            var kv = w.Qkv.AsSpan(0, length * 2 * d);
            DenseKernels.MatMul(hidden, length, d, last.KvT, 2 * d, last.KvBias, kv);
            var query = w.Query.AsSpan(0, d);
            var lastHidden = hidden.Slice((length - 1) * d, d);
            DenseKernels.MatMul(lastHidden, 1, d, last.QT, d, last.QBias, query);
            var lastContext = w.Context.AsSpan(0, d);
            Attend(query, kv, length, lastContext, w.Probabilities);
            FeedForwardAndNorm(last, lastContext, lastHidden, 1, w);
            w.Output.AsSpan(0, d).CopyTo(w.Users.AsSpan(i * d, d));
        }
    }

    /// <summary>
    /// Every position's causal attention, per head: S = Q K^T / sqrt(d_h) and C = softmax(S) V as two matrix products
    /// (the kernel's speed outweighs the masked half it computes); rows of <paramref name="qkv"/> are [q | k | v].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CausalAttention(ReadOnlySpan<float> qkv, int length, Span<float> context, Workspace w)
    {
        int d = _dim, hd = _headDim, stride = 3 * d;
        var q = w.HeadQuery.AsSpan(0, length * hd);
        var keysT = w.HeadKeysT.AsSpan(0, hd * length);
        var values = w.HeadValues.AsSpan(0, length * hd);
        var scores = w.HeadScores.AsSpan(0, length * length);
        var headContext = w.HeadContext.AsSpan(0, length * hd);
        var zero = w.Zero.AsSpan(0, Math.Max(length, hd));
        for (int h = 0; h < _heads; h++)
        {
            for (int t = 0; t < length; t++)
            {
                qkv.Slice(t * stride + h * hd, hd).CopyTo(q.Slice(t * hd, hd));
                qkv.Slice(t * stride + 2 * d + h * hd, hd).CopyTo(values.Slice(t * hd, hd));
            }
            DenseKernels.Transpose(qkv, length, hd, stride, d + h * hd, keysT);
            DenseKernels.MatMul(q, length, hd, keysT, length, zero, scores);
            for (int t = 0; t < length; t++)
            {
                var row = scores.Slice(t * length, length);
                DenseKernels.Softmax(row[..(t + 1)], _attentionScale);
                row[(t + 1)..].Clear(); // the future: masked
            }
            DenseKernels.MatMul(scores, length, length, values, hd, zero, headContext);
            for (int t = 0; t < length; t++) headContext.Slice(t * hd, hd).CopyTo(context.Slice(t * d + h * hd, hd));
        }
    }

    /// <summary>
    /// The last block's one query: softmax(q k_j / sqrt(d_h)) v_j over keys j &lt; <paramref name="keys"/>, per head.
    /// Rows of <paramref name="kv"/> are [k | v], 2d wide.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Attend(ReadOnlySpan<float> q, ReadOnlySpan<float> kv, int keys, Span<float> context, float[] probabilities)
    {
        int hd = _headDim, stride = 2 * _dim;
        context.Clear();
        for (int h = 0; h < _heads; h++)
        {
            var qh = q.Slice(h * hd, hd);
            var p = probabilities.AsSpan(0, keys);
            for (int j = 0; j < keys; j++) p[j] = DenseKernels.Dot(qh, kv.Slice(j * stride + h * hd, hd));
            DenseKernels.Softmax(p, _attentionScale);
            var ch = context.Slice(h * hd, hd);
            for (int j = 0; j < keys; j++)
                DenseKernels.AddScaled(ch, p[j], kv.Slice(j * stride + _dim + h * hd, hd));
        }
    }

    /// <summary>LN(dense(context) + residual), then LN(W2 GELU(W1 a) + a), into w.Output (rows x d).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void FeedForwardAndNorm(Block block, ReadOnlySpan<float> context, ReadOnlySpan<float> residual, int rows, Workspace w)
    {
        int d = _dim;
        var attended = w.Attended.AsSpan(0, rows * d);
        DenseKernels.MatMul(context, rows, d, block.DenseT, d, block.DenseBias, attended);
        DenseKernels.AddLayerNorm(attended, residual, d, block.AttentionGamma, block.AttentionBeta, _eps);
        var inner = w.Inner.AsSpan(0, rows * _ff);
        DenseKernels.MatMul(attended, rows, d, block.Inner1T, _ff, block.Inner1Bias, inner);
        DenseKernels.Gelu(inner);
        var output = w.Output.AsSpan(0, rows * d);
        DenseKernels.MatMul(inner, rows, _ff, block.Inner2T, d, block.Inner2Bias, output);
        DenseKernels.AddLayerNorm(output, attended, d, block.FeedForwardGamma, block.FeedForwardBeta, _eps);
    }

    /// <summary>x_hat = ReLU(TopK(W_enc (x - b_dec) + b_enc + shift)) W_dec + b_dec for the m users in w.Users, into w.Reconstructions.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private ReadOnlySpan<float> Reconstruct(Workspace w, int m, float[]? shift)
    {
        int d = _dim;
        var centred = w.Centred.AsSpan(0, m * d);
        for (int i = 0; i < m * d; i++) centred[i] = w.Users[i] - _decoderBias[i % d];
        var z = w.Latents.AsSpan(0, m * _width);
        DenseKernels.MatMul(centred, m, d, _encoderT, _width, _encoderBias, z);
        var reconstructions = w.Reconstructions.AsSpan(0, m * d);
        var top = w.TopLatents;
        for (int i = 0; i < m; i++)
        {
            var zi = z.Slice(i * _width, _width);
            if (shift is not null) DenseKernels.AddScaled(zi, 1f, shift);
            int count = DenseKernels.SelectTop(zi, _k, top, w.TopValues);
            var x = reconstructions.Slice(i * d, d);
            _decoderBias.CopyTo(x);
            for (int r = 0; r < count; r++)
            {
                float v = w.TopValues[r];
                if (v > 0) DenseKernels.AddScaled(x, v, _decoder.AsSpan(top[r] * d, d));
            }
        }
        return reconstructions;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static RankedItem[] Top(ReadOnlySpan<float> scores, int k)
    {
        var indices = new int[k];
        var values = new float[k];
        int count = DenseKernels.SelectTop(scores, k, indices, values);
        var list = new List<RankedItem>(count);
        // -inf entries are padding or masked history items: never a recommendation.
        for (int r = 0; r < count && !float.IsNegativeInfinity(values[r]); r++) list.Add(new RankedItem(indices[r], values[r]));
        return list.ToArray();
    }

    private static float[] Copy(Tensor t) => t.detach().cpu().contiguous().data<float>().ToArray();

    /// <summary>A [rows, cols] weight as its transpose [cols, rows], row-major: what <see cref="DenseKernels.MatMul"/> reads.</summary>
    private static float[] Transposed(Tensor t) => t.detach().cpu().t().contiguous().data<float>().ToArray();

    private static float[] Transposed(params Tensor[] stackedRows) => Transposed(cat(stackedRows, 0));

    /// <summary>One transformer block's weights, transposed for the kernels.</summary>
    private sealed class Block
    {
        public Block(Dictionary<string, Tensor> p, string prefix)
        {
            string a = prefix + "attention.", f = prefix + "feed_forward.";
            Tensor W(string name) => p[name + ".weight"];
            Tensor B(string name) => p[name + ".bias"];
            QkvT = Transposed(W(a + "query"), W(a + "key"), W(a + "value"));
            QkvBias = Copy(cat([B(a + "query"), B(a + "key"), B(a + "value")], 0));
            QT = Transposed(W(a + "query"));
            QBias = Copy(B(a + "query"));
            KvT = Transposed(W(a + "key"), W(a + "value"));
            KvBias = Copy(cat([B(a + "key"), B(a + "value")], 0));
            DenseT = Transposed(W(a + "dense"));
            DenseBias = Copy(B(a + "dense"));
            AttentionGamma = Copy(W(a + "layer_norm"));
            AttentionBeta = Copy(B(a + "layer_norm"));
            Inner1T = Transposed(W(f + "dense_1"));
            Inner1Bias = Copy(B(f + "dense_1"));
            Inner2T = Transposed(W(f + "dense_2"));
            Inner2Bias = Copy(B(f + "dense_2"));
            FeedForwardGamma = Copy(W(f + "layer_norm"));
            FeedForwardBeta = Copy(B(f + "layer_norm"));
        }

        public float[] QkvT { get; }
        public float[] QkvBias { get; }
        public float[] QT { get; }
        public float[] QBias { get; }
        public float[] KvT { get; }
        public float[] KvBias { get; }
        public float[] DenseT { get; }
        public float[] DenseBias { get; }
        public float[] AttentionGamma { get; }
        public float[] AttentionBeta { get; }
        public float[] Inner1T { get; }
        public float[] Inner1Bias { get; }
        public float[] Inner2T { get; }
        public float[] Inner2Bias { get; }
        public float[] FeedForwardGamma { get; }
        public float[] FeedForwardBeta { get; }
    }

    /// <summary>Per-thread buffers sized for the longest window, so scoring allocates only its results.</summary>
    private sealed class Workspace(int length, int d, int ff, int width, int scores)
    {
        public float[] Hidden { get; } = new float[Group * length * d];
        public float[] Qkv { get; } = new float[length * 3 * d];
        public float[] Context { get; } = new float[length * d];
        public float[] Attended { get; } = new float[length * d];
        public float[] Inner { get; } = new float[length * ff];
        public float[] Output { get; } = new float[length * d];
        public float[] Probabilities { get; } = new float[length];
        public float[] HeadQuery { get; } = new float[length * d];
        public float[] HeadKeysT { get; } = new float[length * d];
        public float[] HeadValues { get; } = new float[length * d];
        public float[] HeadScores { get; } = new float[length * length];
        public float[] HeadContext { get; } = new float[length * d];
        public float[] Zero { get; } = new float[Math.Max(length, d)];
        public float[] Query { get; } = new float[d];
        public float[] Users { get; } = new float[Group * d];
        public float[] PlainUsers { get; } = new float[Group * d];
        public int[] PlainIndex { get; } = new int[Group];
        public float[] Centred { get; } = new float[Group * d];
        public float[] Latents { get; } = new float[Group * width];
        public float[] Reconstructions { get; } = new float[Group * d];
        public float[] Scores { get; } = new float[Group * scores];
        public int[] TopLatents { get; } = new int[width];
        public float[] TopValues { get; } = new float[width];
    }
}
