using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PopSteer.Core.Model;

/// <summary>One post-LN transformer layer as in RecBole: self-attention then the point-wise feed-forward.</summary>
public sealed class TransformerBlock : Module<Tensor, Tensor?, Tensor>
{
    private readonly SelfAttention attention;
    private readonly PointwiseFeedForward feed_forward;

    public TransformerBlock(SasRecConfig c) : base(nameof(TransformerBlock))
    {
        attention = new SelfAttention(c.Dim, c.Heads, c.Dropout, c.AttentionDropout, c.LayerNormEps);
        feed_forward = new PointwiseFeedForward(c.Dim, c.FeedForward, c.Dropout, c.LayerNormEps);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input, Tensor? mask)
    {
        using var attended = attention.forward(input, mask);
        return feed_forward.forward(attended);
    }

    /// <summary>The block's output at one position per row (<paramref name="query"/> [B, 1, d]) given all inputs [B, L, d].</summary>
    public Tensor ForwardAt(Tensor query, Tensor input, Tensor? mask)
    {
        using var attended = attention.Attend(query, input, mask);
        return feed_forward.forward(attended);
    }

    internal void Freeze() => attention.Freeze();
}
