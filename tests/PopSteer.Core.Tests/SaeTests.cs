using PopSteer.Core.Model;
using PopSteer.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace PopSteer.Core.Tests;

public class SaeTests
{
    [Fact]
    public void TopK_keeps_the_k_largest_positive_pre_activations()
    {
        random.manual_seed(1);
        using var sae = new TopKSae(new SaeConfig { InputDim = 4, Width = 6, K = 3, KAux = 2 });
        using var z = tensor(new float[] { 0.5f, -1f, 3f, 2f, -0.1f, 1f, /* row 2 */ -3f, -2f, 0.2f, -1f, -4f, -5f }, [2, 6]);
        var (values, indices) = sae.Sparsify(z);
        using (values)
        using (indices)
        {
            Assert.Equal(new long[] { 2, 3, 5 }, indices[0].data<long>().ToArray());
            Assert.Equal(new float[] { 3f, 2f, 1f }, values[0].data<float>().ToArray());
            // Only one positive entry in row 2: the other two picks are ReLU'd to zero and decode to nothing.
            Assert.Equal(new float[] { 0.2f, 0f, 0f }, values[1].data<float>().ToArray());
        }
    }

    [Fact]
    public void Sparse_decode_equals_the_dense_a_times_W_dec_plus_b_dec()
    {
        random.manual_seed(2);
        using var sae = new TopKSae(new SaeConfig { InputDim = 8, Width = 32, K = 4, KAux = 16 });
        using var x = randn(5, 8);
        using var z = sae.PreActivation(x);
        var (values, indices) = sae.Sparsify(z);
        using var sparse = sae.Decode(values, indices);
        using var dense = zeros(5, 32).scatter_(1, indices, values);
        using var expected = dense.matmul(sae.DecoderWeight).add(sae.named_parameters().Single(p => p.name == "decoder_bias").parameter);
        Assert.True(sparse.allclose(expected, rtol: 1e-5, atol: 1e-6));
        // Init: unit-norm decoder rows, encoder = decoder, zero biases.
        using var norms = sae.DecoderWeight.norm(1);
        Assert.True(norms.allclose(ones(32), rtol: 1e-5, atol: 1e-6));
        values.Dispose();
        indices.Dispose();
    }

    [Fact]
    public void Training_lowers_the_loss_and_reaches_a_low_fvu_on_sparse_synthetic_vectors()
    {
        // x = 2 of 12 random dictionary atoms with positive weights, in d = 16: a TopK SAE with k = 4 can explain it.
        random.manual_seed(3);
        using var atoms = randn(12, 16);
        Tensor Sample(int n)
        {
            using var scope = NewDisposeScope();
            var choice = randint(0, 12, [n, 2]);
            var weights = rand(n, 2).add(0.5);
            var x = atoms.index_select(0, choice.reshape(-1)).view(n, 2, 16).mul(weights.unsqueeze(-1)).sum(1);
            return x.MoveToOuterDisposeScope();
        }
        using var train = Sample(4000);
        using var valid = Sample(500);
        using var sae = new TopKSae(new SaeConfig { InputDim = 16, Width = 64, K = 4, KAux = 32 });
        double before = SaeTrainer.Fvu(sae, valid);
        var result = SaeTrainer.Train(sae, train, valid, new SaeTrainingOptions { BatchSize = 256, MaxEpochs = 25, Patience = 25, LearningRate = 3e-3 }); // 400 steps: a higher peak than the default for so few
        Assert.True(result.History[^1].Loss < result.History[0].Loss, $"loss {result.History[0].Loss} -> {result.History[^1].Loss}");
        Assert.True(result.BestMetric < 0.1, $"validation FVU {result.BestMetric} (before training {before})");
        Assert.Equal(result.BestMetric, SaeTrainer.Fvu(sae, valid), 4); // the best checkpoint is what the module holds
    }

    [Fact]
    public void The_auxiliary_loss_only_adds_when_latents_are_dead()
    {
        random.manual_seed(4);
        using var sae = new TopKSae(new SaeConfig { InputDim = 8, Width = 32, K = 2, KAux = 16 });
        using var x = randn(64, 8);
        using var none = zeros(0, dtype: ScalarType.Int64);
        using var someDead = arange(16, 32, dtype: ScalarType.Int64);
        using var plain = SaeTrainer.Loss(sae, x, none, 0.5);
        using var withAux = SaeTrainer.Loss(sae, x, someDead, 0.5);
        using var noWeight = SaeTrainer.Loss(sae, x, someDead, 0.0);
        Assert.True(withAux.item<float>() > plain.item<float>());
        Assert.Equal(plain.item<float>(), noWeight.item<float>());
    }

    [Fact]
    public void Unit_norm_decoder_rows_stay_unit_norm_and_the_bias_starts_at_the_data_mean()
    {
        // Data far from the origin: the mean start must put b_dec there, and training must not stretch any W_dec row.
        random.manual_seed(5);
        using var offset = full(8, 5.0f);
        using var train = randn(1000, 8).add(offset);
        using var valid = randn(200, 8).add(offset);
        using var mean = train.mean([0]);
        using var sae = new TopKSae(new SaeConfig { InputDim = 8, Width = 32, K = 4, KAux = 16 });
        var options = new SaeTrainingOptions
        {
            BatchSize = 100, MaxEpochs = 1, Patience = 1, LearningRate = 1e-2, WarmupEpochs = 0, CosineDecay = false,
            DecoderBiasFromMean = false, UnitNormDecoder = false, NormaliseInputs = false,
        };

        // One step at lr 0: only the initialisation changes the module.
        SaeTrainer.Train(sae, train, valid, options with { LearningRate = 1e-12, DecoderBiasFromMean = true });
        using var bias = sae.named_parameters().Single(p => p.name == "decoder_bias").parameter.detach().clone();
        Assert.True(bias.allclose(mean, rtol: 1e-4, atol: 1e-4), "b_dec should start at the training mean");

        SaeTrainer.Train(sae, train, valid, options with { UnitNormDecoder = true });
        using (var norms = sae.DecoderWeight.norm(1))
            Assert.True(norms.allclose(ones(32), rtol: 1e-4, atol: 1e-4), $"decoder row norms {norms.min().item<float>()}..{norms.max().item<float>()}");

        // Without the constraint the same training stretches the rows: the assertion above can fail.
        using var free = new TopKSae(new SaeConfig { InputDim = 8, Width = 32, K = 4, KAux = 16 });
        SaeTrainer.Train(free, train, valid, options);
        using var freeNorms = free.DecoderWeight.norm(1);
        Assert.False(freeNorms.allclose(ones(32), rtol: 1e-4, atol: 1e-4));
    }

    [Fact]
    public void Scaling_the_inputs_keeps_z_and_scales_the_reconstruction()
    {
        random.manual_seed(6);
        using var sae = new TopKSae(new SaeConfig { InputDim = 8, Width = 32, K = 4, KAux = 16 });
        using var bias = randn(8);
        sae.SetDecoderBias(bias);
        using var x = randn(20, 8);
        using var zBefore = sae.PreActivation(x);
        using var before = sae.Reconstruct(x);
        sae.ScaleInputs(7.5);
        using var scaledX = x.mul(7.5f.ToScalar());
        using var zAfter = sae.PreActivation(scaledX);
        using var after = sae.Reconstruct(scaledX);
        Assert.True(zAfter.allclose(zBefore, rtol: 1e-4, atol: 1e-4));
        using var expected = before.mul(7.5f.ToScalar());
        Assert.True(after.allclose(expected, rtol: 1e-4, atol: 1e-3));
    }

    [Fact]
    public void Training_on_normalised_inputs_returns_an_SAE_for_the_raw_vectors()
    {
        // Vectors 40x larger than unit variance: the trainer divides by s while it trains and folds s back, so the
        // kept SAE's FVU on the raw validation vectors is the best FVU it reported.
        random.manual_seed(7);
        using var scale = 40f.ToScalar();
        using var train = randn(2000, 8).mul(scale);
        using var valid = randn(300, 8).mul(scale);
        using var sae = new TopKSae(new SaeConfig { InputDim = 8, Width = 32, K = 4, KAux = 16 });
        var result = SaeTrainer.Train(sae, train, valid, new SaeTrainingOptions { BatchSize = 100, MaxEpochs = 4, Patience = 4, LearningRate = 3e-3, NormaliseInputs = true, DecoderBiasFromMean = true, UnitNormDecoder = true });
        Assert.InRange(result.InputScale, 30, 50);
        Assert.Equal(result.BestMetric, SaeTrainer.Fvu(sae, valid), 4);
        Assert.True(result.BestMetric < 0.5, $"FVU {result.BestMetric}");
    }
}
