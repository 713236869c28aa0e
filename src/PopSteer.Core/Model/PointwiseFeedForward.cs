using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PopSteer.Core.Model;

/// <summary>RecBole's FeedForward: LayerNorm(x + Dropout(W2 GELU(W1 x))).</summary>
public sealed class PointwiseFeedForward : Module<Tensor, Tensor>
{
    private readonly Linear dense_1;
    private readonly Linear dense_2;
    private readonly GELU activation;
    private readonly FastDropout dropout;
    private readonly LayerNorm layer_norm;

    public PointwiseFeedForward(int dim, int inner, double dropoutRate, double eps) : base(nameof(PointwiseFeedForward))
    {
        dense_1 = Linear(dim, inner);
        dense_2 = Linear(inner, dim);
        activation = GELU();
        dropout = new FastDropout(dropoutRate);
        layer_norm = LayerNorm(dim, eps);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var hidden = dense_2.forward(activation.forward(dense_1.forward(input)));
        if (training) hidden = dropout.forward(hidden); // eval: identity, not worth a native call per batch
        return layer_norm.forward(hidden.add(input, Scalars.One)).MoveToOuterDisposeScope();
    }
}
