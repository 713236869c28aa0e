using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PopSteer.Core.Model;

/// <summary>
/// RecBole's MultiHeadAttention: softmax(Q K^T / sqrt(d_h) + mask) V, then dense, dropout and a post-LN residual.
/// </summary>
public sealed class SelfAttention : Module<Tensor, Tensor, Tensor>
{
    private readonly int _heads;
    private readonly int _headDim;
    private readonly Scalar _scale;
    private readonly Linear query;
    private readonly Linear key;
    private readonly Linear value;
    private readonly Linear dense;
    private readonly Dropout attn_dropout;
    private readonly Dropout out_dropout;
    private readonly LayerNorm layer_norm;

    public SelfAttention(int dim, int heads, double dropout, double attentionDropout, double eps) : base(nameof(SelfAttention))
    {
        _heads = heads;
        _headDim = dim / heads;
        _scale = Math.Sqrt(_headDim).ToScalar(); // a field: kept alive as long as the layer (see Scalars)
        query = Linear(dim, dim);
        key = Linear(dim, dim);
        value = Linear(dim, dim);
        dense = Linear(dim, dim);
        attn_dropout = Dropout(attentionDropout);
        out_dropout = Dropout(dropout);
        layer_norm = LayerNorm(dim, eps);
        RegisterComponents();
    }

    /// <param name="input">[B, L, d]</param>
    /// <param name="mask">Additive mask broadcastable to [B, heads, L, L]: 0 where attention is allowed, a large negative number elsewhere.</param>
    public override Tensor forward(Tensor input, Tensor mask)
    {
        using var scope = NewDisposeScope();
        long b = input.shape[0], l = input.shape[1];
        var q = SplitHeads(query.forward(input), b, l);
        var k = SplitHeads(key.forward(input), b, l);
        var v = SplitHeads(value.forward(input), b, l);
        var attention = q.matmul(k.transpose(-1, -2)).div(_scale).add(mask, Scalars.One);
        var probs = attn_dropout.forward(attention.softmax(-1));
        var context = probs.matmul(v).permute(0, 2, 1, 3).reshape(b, l, _heads * _headDim);
        var output = layer_norm.forward(out_dropout.forward(dense.forward(context)).add(input, Scalars.One));
        return output.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The same layer for one query per row: <paramref name="query"/> [B, 1, d] attends over <paramref name="keys"/>
    /// [B, L, d]. Scoring needs only the last position of the last block, so the other queries are never computed.
    /// </summary>
    public Tensor Attend(Tensor query, Tensor keys, Tensor mask)
    {
        using var scope = NewDisposeScope();
        long b = keys.shape[0], l = keys.shape[1];
        var q = SplitHeads(this.query.forward(query), b, 1);
        var k = SplitHeads(key.forward(keys), b, l);
        var v = SplitHeads(value.forward(keys), b, l);
        var attention = q.matmul(k.transpose(-1, -2)).div(_scale).add(mask, Scalars.One);
        var probs = attn_dropout.forward(attention.softmax(-1));
        var context = probs.matmul(v).permute(0, 2, 1, 3).reshape(b, 1, _heads * _headDim);
        return layer_norm.forward(out_dropout.forward(dense.forward(context)).add(query, Scalars.One)).MoveToOuterDisposeScope();
    }

    private Tensor SplitHeads(Tensor x, long b, long l) => x.view(b, l, _heads, _headDim).permute(0, 2, 1, 3);
}
