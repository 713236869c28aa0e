using PopSteer.Core.Model;
using PopSteer.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace PopSteer.Core.Tests;

/// <summary>
/// The training shortcuts give the plain maths' loss and gradients on seeded inputs: the SAE's backward through the
/// chosen latents only (against TopK over a differentiable dense z) and SASRec's output layer padded to a multiple of
/// 32 columns (against the unpadded h E^T).
/// </summary>
public class FastTrainingTests
{
    [Theory]
    [InlineData(0.0)]   // no dead latents: FVU only
    [InlineData(1.0 / 32)] // the auxiliary loss over dead latents too
    public void The_SAE_loss_through_the_chosen_latents_has_the_dense_loss_value_and_gradients(double auxWeight)
    {
        random.manual_seed(11);
        using var sae = new TopKSae(new SaeConfig { InputDim = 8, Width = 48, K = 4, KAux = 8 });
        using (no_grad())
            foreach (var (_, p) in sae.named_parameters()) p.add_(randn_like(p).mul(0.1)); // biases away from zero
        using var x = randn(32, 8).mul(2).add(0.5);
        using var dead = auxWeight == 0 ? empty(0, dtype: int64) : arange(0, 48, 3, dtype: int64); // 16 "dead" latents

        var fast = Gradients(sae, () => SaeTrainer.Loss(sae, x, dead, auxWeight));
        var reference = Gradients(sae, () => ReferenceTraining.SaeLoss(sae, x, dead, auxWeight));

        Assert.Equal(reference.Loss, fast.Loss, 5);
        foreach (var (name, grad) in reference.Grads)
            Assert.True(fast.Grads[name].allclose(grad, rtol: 1e-4, atol: 1e-6), $"gradient of {name} differs");
        Assert.True(reference.Grads["encoder_weight"].abs().sum().item<float>() > 0, "the test must reach the encoder");
        foreach (var g in fast.Grads.Values.Concat(reference.Grads.Values)) g.Dispose();
    }

    [Fact]
    public void The_padded_output_layer_has_the_unpadded_cross_entropy_and_gradients()
    {
        random.manual_seed(12);
        const long items = 37; // 37 -> 64 columns: 27 padding columns
        using var table = randn(items, 16).requires_grad_(true);
        using var hidden = randn(20, 16).requires_grad_(true);
        using var target = randint(1, items, [20], dtype: int64);
        using var bias = SasRecTrainer.OutputBias(items, CPU);
        Assert.Equal(64, SasRecTrainer.PaddedCatalogue(items));

        using var padded = nn.functional.cross_entropy(SasRecTrainer.OutputLogits(hidden, table, bias), target);
        padded.backward();
        using var paddedTable = table.grad!.clone();
        using var paddedHidden = hidden.grad!.clone();
        table.grad!.zero_();
        hidden.grad!.zero_();
        using var plain = nn.functional.cross_entropy(hidden.matmul(table.t()), target);
        plain.backward();

        Assert.Equal(plain.item<float>(), padded.item<float>(), 5);
        Assert.True(paddedTable.allclose(table.grad!, rtol: 1e-5, atol: 1e-6));
        Assert.True(paddedHidden.allclose(hidden.grad!, rtol: 1e-5, atol: 1e-6));
    }

    private static (float Loss, Dictionary<string, Tensor> Grads) Gradients(TopKSae sae, Func<Tensor> loss)
    {
        sae.zero_grad();
        using var value = loss();
        value.backward();
        return (value.item<float>(), sae.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone()));
    }
}
