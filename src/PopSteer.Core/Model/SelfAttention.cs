using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PopSteer.Core.Model;

/// <summary>
/// RecBole's MultiHeadAttention: softmax(Q K^T / sqrt(d_h) + mask) V, then dense, dropout and a post-LN residual.
/// Q, K and V come from ONE matmul over the stacked weights [W_q; W_k; W_v] and the attention is libtorch's fused
/// scaled_dot_product_attention: the same function in fewer, larger kernels. The three Linear layers stay as they
/// are, so saved models, parameter names and the optimizer see no change.
/// </summary>
public sealed class SelfAttention : Module<Tensor, Tensor?, Tensor>
{
    private readonly int _dim;
    private readonly int _heads;
    private readonly int _headDim;
    private readonly Linear query;
    private readonly Linear key;
    private readonly Linear value;
    private readonly Linear dense;
    private readonly FastDropout out_dropout;
    private readonly LayerNorm layer_norm;
    private readonly double _attentionDropout;
    private readonly Scalar _scale; // 1 / sqrt(d_h), held for the module's life (see Scalars)
    // Set by Freeze(): the stacked weights, built once for a model that is only ever scored.
    private Tensor? _frozenWeight;
    private Tensor? _frozenBias;

    public SelfAttention(int dim, int heads, double dropout, double attentionDropout, double eps) : base(nameof(SelfAttention))
    {
        _dim = dim;
        _heads = heads;
        _headDim = dim / heads;
        _attentionDropout = attentionDropout;
        _scale = (1.0 / Math.Sqrt(_headDim)).ToScalar();
        query = Linear(dim, dim);
        key = Linear(dim, dim);
        value = Linear(dim, dim);
        dense = Linear(dim, dim);
        out_dropout = new FastDropout(dropout);
        layer_norm = LayerNorm(dim, eps);
        RegisterComponents();
    }

    /// <param name="input">[B, L, d]</param>
    /// <param name="mask">Additive mask broadcastable to [B, heads, L, L] (0 where attention is allowed, a large negative number elsewhere), or null for plain causal attention.</param>
    public override Tensor forward(Tensor input, Tensor? mask)
    {
        using var scope = NewDisposeScope();
        long b = input.shape[0], l = input.shape[1];
        var (weight, bias) = Stacked();
        // [B, L, 3d] -> [3, B, heads, L, d_h]: q, k and v as views of one matmul's output.
        var qkv = nn.functional.linear(input, weight, bias).view(b, l, 3, _heads, _headDim).permute(2, 0, 3, 1, 4);
        var context = Attention(qkv[0], qkv[1], qkv[2], mask, causal: mask is null);
        return Output(context, input, b, l).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The same layer for one query per row: <paramref name="query"/> [B, 1, d] attends over <paramref name="keys"/>
    /// [B, L, d] (<paramref name="mask"/> [B, 1, 1, L] additive, or null when no key is padding). Scoring needs only the
    /// last position of the last block, so the other queries are never computed.
    /// </summary>
    public Tensor Attend(Tensor query, Tensor keys, Tensor? mask)
    {
        using var scope = NewDisposeScope();
        long b = keys.shape[0], l = keys.shape[1];
        var (weight, bias) = Stacked();
        var q = nn.functional.linear(query, weight.narrow(0, 0, _dim), bias.narrow(0, 0, _dim)).view(b, 1, _heads, _headDim).transpose(1, 2);
        var kv = nn.functional.linear(keys, weight.narrow(0, _dim, 2 * _dim), bias.narrow(0, _dim, 2 * _dim)).view(b, l, 2, _heads, _headDim).permute(2, 0, 3, 1, 4);
        var context = Attention(q, kv[0], kv[1], mask, causal: false);
        return Output(context, query, b, 1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// For a model that is only scored from now on: keeps [W_q; W_k; W_v] stacked once instead of per call.
    /// The module must not be trained or have its weights replaced afterwards (<see cref="SasRec.Freeze"/> is the caller).
    /// </summary>
    internal void Freeze()
    {
        using var _ = no_grad();
        _frozenWeight?.Dispose();
        _frozenBias?.Dispose();
        _frozenWeight = cat([query.weight!, key.weight!, value.weight!], 0).DetachFromDisposeScope();
        _frozenBias = cat([query.bias!, key.bias!, value.bias!], 0).DetachFromDisposeScope();
    }

    private (Tensor Weight, Tensor Bias) Stacked() =>
        !training && _frozenWeight is not null && _frozenBias is not null
            ? (_frozenWeight, _frozenBias)
            // Training (or not frozen): stacked per call, so gradients reach the three layers and a weight update is never stale.
            : (cat([query.weight!, key.weight!, value.weight!], 0), cat([query.bias!, key.bias!, value.bias!], 0));

    // softmax(q k^T / sqrt(d_h) + mask) v, with attention dropout on the probabilities while training.
    private Tensor Attention(Tensor q, Tensor k, Tensor v, Tensor? mask, bool causal)
    {
        if (!training || _attentionDropout == 0 || q.device_type != DeviceType.CPU)
            return nn.functional.scaled_dot_product_attention(q, k, v, mask, training ? _attentionDropout : 0.0, causal);
        // With dropout, libtorch's CPU attention is its unfused maths drawing the mask with bernoulli_ one element at a
        // time (11.4 ms against 2.5 ms without dropout at one ML-1M step's shapes, `PopSteer.Bench train-ops`): the same
        // maths here, with FastDropout's mask on the probabilities.
        var scores = q.matmul(k.transpose(-2, -1)).mul_(_scale);
        if (mask is not null) scores.add_(mask);
        if (causal)
        {
            long l = q.shape[2];
            using var above = ones(l, l, dtype: ScalarType.Bool).triu(1);
            scores.masked_fill_(above, Scalars.NegativeInfinity);
        }
        return FastDropout.Apply(scores.softmax(-1), _attentionDropout).matmul(v);
    }

    private Tensor Output(Tensor context, Tensor residual, long b, long l)
    {
        var merged = context.transpose(1, 2).reshape(b, l, _dim);
        var projected = dense.forward(merged);
        if (training) projected = out_dropout.forward(projected);
        return layer_norm.forward(projected.add(residual, Scalars.One));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _frozenWeight?.Dispose();
            _frozenBias?.Dispose();
            _scale.Dispose();
        }
        base.Dispose(disposing);
    }
}
