using PopSteer.Core.Model;
using PopSteer.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace PopSteer.Core.Tests;

/// <summary>
/// Training maths written out the plain way, for tests that hold the fast training path to it on seeded inputs.
/// </summary>
internal static class ReferenceTraining
{
    /// <summary>
    /// The SAE's FVU + auxWeight * L_aux with TopK over a differentiable dense z (what <see cref="SaeTrainer.Loss"/>
    /// computed before it recomputed only the chosen entries): gradients reach W_enc through the dense [B, h] backward.
    /// </summary>
    public static Tensor SaeLoss(TopKSae sae, Tensor x, Tensor deadLatents, double auxWeight)
    {
        using var scope = NewDisposeScope();
        var z = sae.PreActivation(x);
        var (values, indices) = sae.Sparsify(z);
        var xHat = sae.Decode(values, indices);
        var totalVariance = x.sub(x.mean([0], keepdim: true)).square().sum();
        var fvu = xHat.sub(x).square().sum().div(totalVariance);
        long deadCount = deadLatents.shape[0];
        if (deadCount == 0 || auxWeight == 0) return fvu.MoveToOuterDisposeScope();
        var residual = x.sub(xHat).detach();
        int kAux = (int)Math.Min(sae.Config.KAux, deadCount);
        var (auxValues, auxPositions) = z.index_select(1, deadLatents).relu().topk(kAux, dim: 1);
        var auxIndices = deadLatents.index_select(0, auxPositions.reshape(-1)).view_as(auxPositions);
        var residualHat = sae.DecodeResidual(auxValues, auxIndices);
        double scale = Math.Min((double)deadCount / sae.Config.KAux, 1.0);
        using var weight = (scale * auxWeight).ToScalar();
        var aux = residualHat.sub(residual).square().sum().div(totalVariance).mul(weight);
        return fvu.add(aux, Scalars.One).MoveToOuterDisposeScope();
    }
}
