using System.Runtime.Intrinsics;
using PopSteer.Core.Model;
using PopSteer.Core.Scoring;
using PopSteer.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace PopSteer.Core.Tests;

/// <summary>
/// The training shortcuts give the plain maths' loss and gradients on seeded inputs: the SAE's backward through the
/// chosen latents only (against TopK over a differentiable dense z) and SASRec's hand-differentiated, padded output
/// layer and cross-entropy (against autograd's over the unpadded h E^T), the managed top-k (against torch.topk's sets) and the fused Adam (against
/// torch.optim.Adam's parameters).
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

    [Theory]
    [InlineData(true)]  // managed, over the torch thread count
    [InlineData(false)] // tensor operations (any device)
    public void The_fused_cross_entropy_has_autograd_s_loss_and_logit_gradient_and_ignores_the_padding(bool managed)
    {
        random.manual_seed(12);
        const int rows = 300, columns = 37, width = 64; // 27 padding columns; 300 rows: more than one managed part
        using var logits = randn(rows, width).mul(4);
        using (no_grad()) logits.narrow(1, columns, width - columns).fill_(50f); // padding must not count, even if large
        var targets = Enumerable.Range(0, rows).Select(i => i * 7 % columns).ToArray();
        using var catalogue = logits.narrow(1, 0, columns).detach().clone().requires_grad_(true);
        using var target = tensor(targets.Select(t => (long)t).ToArray());
        using var reference = nn.functional.cross_entropy(catalogue, target);
        reference.backward();

        using var fused = logits.clone();
        double loss = FullSoftmaxCrossEntropy.LossAndGradient(fused, columns, targets, managed);

        Assert.Equal(reference.item<float>(), loss, 4);
        using var gradient = fused.narrow(1, 0, columns);
        Assert.True(gradient.allclose(catalogue.grad!, rtol: 1e-4, atol: 1e-7), $"max difference {gradient.sub(catalogue.grad!).abs().max().item<float>()}");
        using var padding = fused.narrow(1, columns, width - columns);
        Assert.Equal(0f, padding.abs().max().item<float>());
        Assert.Throws<ArgumentOutOfRangeException>(() => FullSoftmaxCrossEntropy.LossAndGradient(logits.clone(), columns, targets.Select(_ => columns).ToArray(), managed));
    }

    [Fact]
    public void The_managed_exp_is_within_two_float_ulps_down_to_float_s_normal_range_and_zero_below()
    {
        double worst = 0, at = 0;
        for (double x = -87.3; x <= 0; x += 7.3e-4)
        {
            double got = DenseKernels.ExpUpToZero(Vector256.Create((float)x)).GetElement(0);
            double exact = Math.Exp((float)x);
            double ulps = Math.Abs(got - exact) / (exact * Math.Pow(2, -23));
            if (ulps > worst) (worst, at) = (ulps, x);
        }
        Assert.True(worst <= 2, $"exp off by {worst:F2} ulps at x = {at:F4}");
        Assert.Equal(1f, DenseKernels.ExpUpToZero(Vector256<float>.Zero).GetElement(0));
        foreach (float below in new[] { -87.31f, -100f, -1e30f, float.NegativeInfinity })
            Assert.Equal(0f, DenseKernels.ExpUpToZero(Vector256.Create(below)).GetElement(0));
    }

    [Fact]
    public void A_training_step_s_gradients_are_autograd_s_through_the_tied_output_layer()
    {
        random.manual_seed(16);
        const int items = 45; // 46 rows -> 64 padded columns
        using var model = new SasRec(new SasRecConfig { ItemCount = items, Dim = 16, Blocks = 2, Heads = 2, FeedForward = 32, MaxLength = 10 });
        model.eval(); // no dropout: both passes see the same network
        using var input = randint(1, items + 1, [6, 10], dtype: int64);
        long[] positions = [0, 3, 9, 14, 22, 30, 31, 42, 45, 59];
        int[] targets = [5, 1, 45, 7, 7, 30, 2, 19, 44, 3];

        model.zero_grad();
        double loss = SasRecTrainer.AccumulateGradients(model, input, positions, targets);
        var fused = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone());

        model.zero_grad();
        using (var hidden = model.forward(input).view(-1, 16).index_select(0, tensor(positions)))
        using (var reference = nn.functional.cross_entropy(hidden.matmul(model.ItemEmbeddings.t()), tensor(targets.Select(t => (long)t).ToArray())))
        {
            reference.backward();
            Assert.Equal(reference.item<float>(), loss, 4);
        }
        foreach (var (name, parameter) in model.named_parameters())
            Assert.True(fused[name].allclose(parameter.grad!, rtol: 1e-4, atol: 1e-6), $"gradient of {name} differs by up to {fused[name].sub(parameter.grad!).abs().max().item<float>()}");
        Assert.True(fused["item_embedding.weight"].abs().sum().item<float>() > 0, "the tied table must get a gradient");
        foreach (var g in fused.Values) g.Dispose();
    }

    private static (float Loss, Dictionary<string, Tensor> Grads) Gradients(TopKSae sae, Func<Tensor> loss)
    {
        sae.zero_grad();
        using var value = loss();
        value.backward();
        return (value.item<float>(), sae.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone()));
    }

    [Fact]
    public void The_fused_Adam_moves_parameters_as_torch_Adam_does_over_many_steps_and_a_learning_rate_change()
    {
        random.manual_seed(13);
        using var a = nn.Linear(37, 19); // 703 weights (not a multiple of 8: the scalar tail runs) and 19 biases
        using var b = nn.Linear(37, 19);
        using (no_grad())
            foreach (var ((_, pa), (_, pb)) in a.named_parameters().Zip(b.named_parameters())) pb.copy_(pa);
        var fused = new FusedAdam(a.parameters(), 3e-3);
        using var reference = optim.Adam(b.parameters(), 3e-3);
        for (int step = 0; step < 60; step++)
        {
            if (step == 30)
            {
                fused.LearningRate = 1e-3;
                foreach (var group in ((TorchSharp.Modules.OptimizerHelper)reference).ParamGroups) group.LearningRate = 1e-3;
            }
            using var x = randn(16, 37);
            using var target = randn(16, 19);
            a.zero_grad();
            b.zero_grad();
            using (var lossA = a.forward(x).sub(target).square().mean()) lossA.backward();
            using (var lossB = b.forward(x).sub(target).square().mean()) lossB.backward();
            fused.Step();
            reference.step();
        }
        foreach (var ((name, pa), (_, pb)) in a.named_parameters().Zip(b.named_parameters()))
        {
            Assert.True(pa.allclose(pb, rtol: 1e-5, atol: 1e-6), $"{name}: differs by up to {pa.sub(pb).abs().max().item<float>()}");
        }
        // The parameters did move: the comparison is not of two untouched copies.
        using var fresh = nn.Linear(37, 19);
        Assert.False(a.named_parameters().First().parameter.allclose(fresh.named_parameters().First().parameter));
    }

    [Fact]
    public void The_managed_top_k_picks_torch_topk_s_sets_including_rows_with_ties_and_infinities()
    {
        random.manual_seed(14);
        using var z = randn(70, 301);
        using (no_grad())
        {
            z[3].fill_(1f);                                   // one row of ties
            z[4].index_fill_(0, arange(0, 301, 2, dtype: int64), float.NegativeInfinity);
            z[5].copy_(arange(301, dtype: float32));          // ascending: every entry enters the list
        }
        foreach (int k in new[] { 1, 8, 32, 301 })
        {
            using var managed = TopKSelection.Indices(z, k);
            using var torchIndices = z.topk(k, dim: 1).indexes;
            Assert.Equal(new long[] { 70, k }, managed.shape);
            using var managedSorted = managed.sort(dim: 1).Values;
            using var torchSorted = torchIndices.sort(dim: 1).Values;
            for (int r = 0; r < 70; r++)
            {
                if (r == 3) continue; // all tied: any k of them is a correct set; checked below
                Assert.True(managedSorted[r].data<long>().ToArray().SequenceEqual(torchSorted[r].data<long>().ToArray()), $"k {k}, row {r}");
            }
            // The tied row: k distinct indices, the lowest ones.
            Assert.Equal(Enumerable.Range(0, k).Select(i => (long)i), managedSorted[3].data<long>().ToArray());
        }
    }

    [Theory]
    [InlineData(0.0, 40)]       // FVU only; 40 rows: two uneven parts of 20
    [InlineData(1.0 / 32, 40)]  // the auxiliary loss over dead latents too
    [InlineData(0.5, 7)]        // a batch too small to split
    public void The_managed_SAE_step_has_autograd_s_loss_and_gradients(double auxWeight, int rows)
    {
        random.manual_seed(17);
        using var sae = new TopKSae(new SaeConfig { InputDim = 12, Width = 52, K = 4, KAux = 8 }); // 12: a 4-float tail
        using (no_grad())
            foreach (var (_, p) in sae.named_parameters()) p.add_(randn_like(p).mul(0.1));
        using var reference = Copy(sae);
        using var vectors = randn(100, 12).mul(2).add(0.5);
        long[] sample = Enumerable.Range(0, rows).Select(i => (long)(i * 37 % 100)).ToArray();
        long[] deadLatents = auxWeight == 0 ? [] : Enumerable.Range(0, 52).Where(j => j % 3 == 1).Select(j => (long)j).ToArray();

        var step = new SaeTrainingStep(sae, vectors, rows, 1e-3, auxWeight, unitNormDecoder: true);
        step.SetDead(deadLatents);
        double loss = step.Step(sample);

        using var x = vectors.index_select(0, tensor(sample));
        using var dead = tensor(deadLatents, dtype: int64);
        var expected = Gradients(reference, () => SaeTrainer.Loss(reference, x, dead, auxWeight));
        Assert.Equal(expected.Loss, loss, 4);
        var encoder = new float[52 * 12];
        var decoder = new float[52 * 12];
        var encoderBias = new float[52];
        for (int j = 0; j < 52; j++) encoderBias[j] = step.LatentGradients(j, encoder.AsSpan(j * 12, 12), decoder.AsSpan(j * 12, 12));
        AssertClose(expected.Grads["encoder_weight"], encoder, "W_enc");
        AssertClose(expected.Grads["encoder_bias"], encoderBias, "b_enc");
        AssertClose(expected.Grads["decoder_weight"], decoder, "W_dec");
        AssertClose(expected.Grads["decoder_bias"], step.DecoderBiasGradient.ToArray(), "b_dec");
        Assert.True(encoder.Any(g => g != 0) && decoder.Any(g => g != 0), "the test must reach both weights");
        foreach (var g in expected.Grads.Values) g.Dispose();
    }

    [Fact]
    public void The_managed_SAE_step_moves_the_parameters_as_the_autograd_step_and_fused_Adam_do()
    {
        random.manual_seed(18);
        using var sae = new TopKSae(new SaeConfig { InputDim = 16, Width = 64, K = 4, KAux = 16 });
        using var reference = Copy(sae);
        using var vectors = randn(400, 16).add(0.3);
        var managed = new SaeTrainingStep(sae, vectors, 48, 3e-3, 0.5, unitNormDecoder: true);
        var adam = new FusedAdam(reference.parameters(), 3e-3);
        using var fired = zeros(64, dtype: ScalarType.Bool);
        for (int step = 0; step < 40; step++)
        {
            long[] deadLatents = step < 10 ? [] : Enumerable.Range(0, 64).Where(j => (j + step) % 4 == 0).Select(j => (long)j).ToArray();
            long[] sample = Enumerable.Range(0, 48).Select(i => (long)((step * 48 + i * 7) % 400)).ToArray();
            if (step == 25) managed.LearningRate = adam.LearningRate = 1e-3;
            managed.SetDead(deadLatents);
            double loss = managed.Step(sample);

            using var x = vectors.index_select(0, tensor(sample));
            using var dead = tensor(deadLatents, dtype: int64);
            reference.zero_grad();
            using var expected = SaeTrainer.Loss(reference, x, dead, 0.5, fired);
            expected.backward();
            reference.ProjectDecoderGradient();
            adam.Step();
            reference.NormaliseDecoderRows();
            Assert.Equal(expected.item<float>(), loss, 4);
        }
        foreach (var ((name, a), (_, b)) in sae.named_parameters().Zip(reference.named_parameters()))
            Assert.True(a.allclose(b, rtol: 1e-4, atol: 1e-5), $"{name}: differs by up to {a.sub(b).abs().max().item<float>()}");
        Assert.Equal(fired.data<bool>().ToArray(), managed.Fired);
        random.manual_seed(18);
        using var start = new TopKSae(new SaeConfig { InputDim = 16, Width = 64, K = 4, KAux = 16 });
        Assert.False(sae.DecoderWeight.allclose(start.DecoderWeight), "the parameters must have moved");
    }

    [Fact]
    public void SAE_training_with_the_managed_step_follows_the_autograd_path_epoch_by_epoch()
    {
        random.manual_seed(19);
        using var train = randn(640, 16).matmul(randn(16, 16)); // correlated dimensions
        using var valid = randn(128, 16).matmul(randn(16, 16));
        var options = new SaeTrainingOptions { BatchSize = 64, MaxEpochs = 4, Patience = 4 };
        var config = new SaeConfig { InputDim = 16, Width = 128, K = 4, KAux = 32 }; // 128 latents, 40 active a batch: some die
        random.manual_seed(20);
        using var a = new TopKSae(config);
        random.manual_seed(20);
        using var b = new TopKSae(config);
        var managed = SaeTrainer.Train(a, train, valid, options);
        var autograd = SaeTrainer.Train(b, train, valid, options with { ManagedStep = false });
        Assert.Equal(4, managed.History.Count);
        foreach (var (m, r) in managed.History.Zip(autograd.History))
        {
            Assert.Equal(r.Loss, m.Loss, 3);
            Assert.Equal(r.Metric, m.Metric, 3);
            Assert.Equal(r.MetricName, m.MetricName); // the same dead-latent count after each epoch
        }
        Assert.True(managed.History[^1].Metric < managed.History[0].Metric, "FVU must fall");
    }

    [Fact]
    public void The_SAE_step_s_column_top_k_picks_torch_topk_s_sets_including_ties_and_crowded_columns()
    {
        random.manual_seed(21);
        const int h = 301, n = 21; // 21 columns: two blocks of 8 and a tail of 5
        using var z = randn(n, h);
        using var bias = randint(-3, 4, [h]).to(float32); // whole numbers: the tied rows below stay tied after the bias
        using (no_grad())
        {
            z[3].copy_(bias.neg().add(1));                           // z + b = 1 for all: more reach the bound than there is room for
            z[9].copy_(arange(h, dtype: float32).remainder(7));      // whole numbers: a dozen values, each many times
            z[17].index_fill_(0, arange(0, h, 2, dtype: int64), float.NegativeInfinity);
        }
        using var biased = z.add(bias);
        var zT = z.t().contiguous().data<float>().ToArray();
        var b = bias.data<float>().ToArray();
        foreach (var latents in new[] { Enumerable.Range(0, h).ToArray(), Enumerable.Range(0, h).Where(j => j % 3 == 1).ToArray() })
            foreach (int k in new[] { 1, 8, 32, latents.Length })
            {
                var (indices, values, counts) = SelectColumns(zT, n, b, latents, k, float.NegativeInfinity);
                using var among = biased.index_select(1, tensor(latents.Select(j => (long)j).ToArray()));
                // torch.topk breaks ties its own way; the expected set breaks them to the lower latent, as the SAE's
                // managed top-k does, so rank by (value, -latent) with a stable sort.
                for (int c = 0; c < n; c++)
                {
                    var row = among[c].data<float>().ToArray();
                    var expected = Enumerable.Range(0, latents.Length).OrderByDescending(i => row[i]).ThenBy(i => i).Take(k).Select(i => latents[i]).Order();
                    Assert.Equal(k, counts[c]);
                    Assert.Equal(expected, indices[c].Take(k).Order());
                    for (int t = 0; t < k; t++) Assert.Equal(zT[indices[c][t] * n + c] + b[indices[c][t]], values[c][t]);
                }
                using var torchSets = among.topk(k, dim: 1).values.sort(dim: 1).Values;
                var torchValues = torchSets.data<float>().ToArray();
                for (int c = 0; c < n; c++)
                    Assert.Equal(torchValues.Skip(c * k).Take(k), values[c].Take(k).Order()); // the same values as torch.topk
            }
    }

    [Fact]
    public void The_column_top_k_with_a_floor_keeps_the_top_k_of_the_values_at_or_above_it()
    {
        random.manual_seed(22);
        const int h = 203, n = 19; // two blocks of 8 and a tail of 3
        using var z = randn(n, h).sub(1.5); // mostly negative, as dead latents' pre-activations are
        using var bias = randn(h).mul(0.5);
        using (no_grad())
        {
            z[2].fill_(-5);                     // nothing above the floor
            z[11].copy_(bias.neg().add(2));     // every value 2: more reach the bound than there is room for
        }
        using var biased = z.add(bias);
        var zT = z.t().contiguous().data<float>().ToArray();
        var b = bias.data<float>().ToArray();
        foreach (var latents in new[] { Enumerable.Range(0, h).ToArray(), Enumerable.Range(0, h).Where(j => j % 4 == 3).ToArray() })
            foreach (int k in new[] { 1, 8, 32, latents.Length })
            {
                var (indices, values, counts) = SelectColumns(zT, n, b, latents, k, floor: float.Epsilon);
                using var among = biased.index_select(1, tensor(latents.Select(j => (long)j).ToArray()));
                for (int c = 0; c < n; c++)
                {
                    var row = among[c].data<float>().ToArray();
                    var expected = Enumerable.Range(0, latents.Length).OrderByDescending(i => row[i]).ThenBy(i => i).Take(k)
                        .Where(i => row[i] > 0).Select(i => latents[i]).Order().ToArray();
                    Assert.Equal(expected.Length, counts[c]);
                    Assert.Equal(expected, indices[c].Take(counts[c]).Order());
                    for (int t = 0; t < counts[c]; t++) Assert.Equal(zT[indices[c][t] * n + c] + b[indices[c][t]], values[c][t]);
                }
                Assert.Equal(0, counts[2]);
            }
    }

    /// <summary>SaeTrainingStep.SelectColumns into fresh arrays with room for its candidates.</summary>
    private static (int[][] Indices, float[][] Values, int[] Counts) SelectColumns(float[] zT, int n, float[] bias, int[] latents, int k, float floor)
    {
        int room = SaeTrainingStep.Candidates(k);
        var indices = Enumerable.Range(0, n).Select(_ => new int[room]).ToArray();
        var values = Enumerable.Range(0, n).Select(_ => new float[room]).ToArray();
        var counts = new int[n];
        SaeTrainingStep.SelectColumns(zT, n, bias, latents, k, indices, values, counts, new float[n], floor);
        return (indices, values, counts);
    }

    private static TopKSae Copy(TopKSae sae)
    {
        var copy = new TopKSae(sae.Config);
        using (no_grad())
            foreach (var ((_, to), (_, from)) in copy.named_parameters().Zip(sae.named_parameters())) to.copy_(from);
        return copy;
    }

    private static void AssertClose(Tensor expected, float[] actual, string name)
    {
        using var got = tensor(actual).view_as(expected);
        Assert.True(got.allclose(expected, rtol: 1e-4, atol: 1e-6), $"gradient of {name} differs by up to {got.sub(expected).abs().max().item<float>()}");
    }

    [Fact]
    public void The_managed_unit_norm_steps_match_the_tensor_formulas()
    {
        random.manual_seed(15);
        using var sae = new TopKSae(new SaeConfig { InputDim = 12, Width = 40, K = 4, KAux = 8 }); // 12: a 4-float tail per row
        using (no_grad()) sae.DecoderWeight.mul_(randn(40, 1).abs().add(0.5)); // rows off unit norm
        using var x = randn(16, 12);
        using (var loss = sae.Reconstruct(x).square().sum()) loss.backward();
        using var w = sae.DecoderWeight.detach().clone();
        using var g = sae.DecoderWeight.grad!.clone();
        Assert.True(g.abs().sum().item<float>() > 0, "the test needs a gradient on W_dec");

        sae.ProjectDecoderGradient();
        using var expectedGrad = g.sub(w.mul(g.mul(w).sum(1, keepdim: true)));
        using var projected = sae.DecoderWeight.grad!;
        Assert.True(projected.allclose(expectedGrad, rtol: 1e-4, atol: 1e-5), $"max difference {projected.sub(expectedGrad).abs().max().item<float>()} of {expectedGrad.abs().max().item<float>()}");

        sae.NormaliseDecoderRows();
        using var expectedRows = w.div(w.norm(1, keepdim: true));
        Assert.True(sae.DecoderWeight.allclose(expectedRows, rtol: 1e-5, atol: 1e-6));
        using var norms = sae.DecoderWeight.norm(1);
        Assert.True(norms.allclose(ones(40), rtol: 1e-5, atol: 1e-6));
    }
}
