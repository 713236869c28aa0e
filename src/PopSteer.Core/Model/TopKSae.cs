using System.Runtime.InteropServices;
using PopSteer.Core.Scoring;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PopSteer.Core.Model;

/// <summary>
/// TopK sparse autoencoder (METHOD.md section 3):
/// z = W_enc (x - b_dec) + b_enc;  a = TopK_k(ReLU(z));  x_hat = a W_dec + b_dec.
/// W_enc and W_dec are both stored as [h, d] (row j = latent j), so the init W_dec = W_enc^T is a copy.
/// </summary>
public sealed class TopKSae : Module<Tensor, Tensor>
{
    private readonly Parameter encoder_weight;
    private readonly Parameter encoder_bias;
    private readonly Parameter decoder_weight;
    private readonly Parameter decoder_bias;

    public TopKSae(SaeConfig config) : base(nameof(TopKSae))
    {
        config.Validate();
        Config = config;
        // Unit-norm latent rows for the decoder, the encoder starts as its transpose, biases at zero.
        using var raw = randn(config.Width, config.InputDim);
        using var rows = raw.div(raw.norm(1, keepdim: true));
        decoder_weight = Parameter(rows.clone());
        encoder_weight = Parameter(rows.clone());
        encoder_bias = Parameter(zeros(config.Width));
        decoder_bias = Parameter(zeros(config.InputDim));
        RegisterComponents();
    }

    public SaeConfig Config { get; }
    public int Width => Config.Width;

    /// <summary>W_dec, [h, d]: latent j writes row j into the reconstruction.</summary>
    public Tensor DecoderWeight => decoder_weight;

    // The other three, for the managed training step (Training.SaeTrainingStep), which updates their storage in place.
    internal Tensor EncoderWeight => encoder_weight;
    internal Tensor EncoderBias => encoder_bias;
    internal Tensor DecoderBias => decoder_bias;

    /// <summary>The dense pre-activation z (before ReLU and TopK): [B, d] -> [B, h].</summary>
    public Tensor PreActivation(Tensor x)
    {
        using var centred = x.sub(decoder_bias);
        return nn.functional.linear(centred, encoder_weight, encoder_bias);
    }

    /// <summary>
    /// z at given latents only: x [B, d] and latent indices [B, n] -> [B, n], each entry W_enc[j] . (x - b_dec) + b_enc[j].
    /// Training's TopK passes gradient back to those entries of the dense z alone, so computing them from the gathered
    /// rows gives W_enc, b_enc and b_dec the same gradients without the dense backward (two [B, h] x d matmuls).
    /// </summary>
    public Tensor PreActivationAt(Tensor x, Tensor indices)
    {
        using var scope = NewDisposeScope();
        long b = indices.shape[0], n = indices.shape[1];
        var flat = indices.reshape(-1);
        var rows = encoder_weight.index_select(0, flat).view(b, n, Config.InputDim);
        var centred = x.sub(decoder_bias).unsqueeze(2);
        var z = rows.bmm(centred).squeeze(2).add(encoder_bias.index_select(0, flat).view(b, n), Scalars.One);
        return z.MoveToOuterDisposeScope();
    }

    /// <summary>TopK_k(ReLU(z)) as (values, latent indices), each [B, k]. ReLU after TopK picks the same set.</summary>
    public (Tensor Values, Tensor Indices) Sparsify(Tensor z)
    {
        var (values, indices) = z.topk(Config.K, dim: 1);
        using (values) return (values.relu(), indices);
    }

    /// <summary>x_hat = a W_dec + b_dec, reading only the k active rows of W_dec.</summary>
    public Tensor Decode(Tensor values, Tensor indices)
    {
        using var scope = NewDisposeScope();
        long b = indices.shape[0], k = indices.shape[1];
        var rows = decoder_weight.index_select(0, indices.reshape(-1)).view(b, k, Config.InputDim);
        var xHat = values.unsqueeze(1).bmm(rows).squeeze(1).add(decoder_bias, Scalars.One);
        return xHat.MoveToOuterDisposeScope();
    }

    /// <summary>Decodes without the bias: what L_aux needs to reconstruct a residual.</summary>
    public Tensor DecodeResidual(Tensor values, Tensor indices)
    {
        using var scope = NewDisposeScope();
        long b = indices.shape[0], k = indices.shape[1];
        var rows = decoder_weight.index_select(0, indices.reshape(-1)).view(b, k, Config.InputDim);
        return values.unsqueeze(1).bmm(rows).squeeze(1).MoveToOuterDisposeScope();
    }

    /// <summary>Reconstruction; <paramref name="shift"/> (length h) is PopSteer's fused steering step z += shift.</summary>
    public Tensor Reconstruct(Tensor x, Tensor? shift = null)
    {
        using var scope = NewDisposeScope();
        var z = PreActivation(x);
        if (shift is not null) z = z.add_(shift);
        var (values, indices) = Sparsify(z);
        return Decode(values, indices).MoveToOuterDisposeScope();
    }

    /// <summary>Sets b_dec (no gradient): the SAE then starts centred on the data instead of on the origin.</summary>
    public void SetDecoderBias(Tensor value)
    {
        using var _ = no_grad();
        decoder_bias.copy_(value.reshape(Config.InputDim));
    }

    /// <summary>
    /// Removes from W_dec's gradient each row's component along that row, so a step turns a unit-norm row instead of
    /// stretching it (Gao et al. 2024); the scale then lives in the activations, where TopK and steering read it.
    /// </summary>
    public void ProjectDecoderGradient()
    {
        using var grad = decoder_weight.grad;
        if (grad is null) return;
        using var _ = no_grad();
        if (OnCpu(grad) && OnCpu(decoder_weight))
        {
            // One pass over the rows in managed code: as tensor ops this and the renormalisation below were 9.5-9.9% of
            // a batch-64 SAE epoch at ML-1M size (`PopSteer.Bench train-profile`), 2.0-2.8 s of it as managed passes.
            var w = MemoryMarshal.Cast<byte, float>(decoder_weight.bytes);
            var g = MemoryMarshal.Cast<byte, float>(grad.bytes);
            int d = Config.InputDim;
            for (int j = 0; j < Config.Width; j++)
            {
                var row = w.Slice(j * d, d);
                var rowGrad = g.Slice(j * d, d);
                DenseKernels.AddScaled(rowGrad, -DenseKernels.Dot(rowGrad, row), row);
            }
            return;
        }
        using var scope = NewDisposeScope();
        var parallel = grad.mul(decoder_weight).sum(1, keepdim: true);
        grad.sub_(decoder_weight.mul(parallel));
    }

    /// <summary>
    /// Turns an SAE that reads x into the same SAE reading x * factor: W_enc / factor, W_dec and b_dec * factor, so z
    /// (hence TopK and steering) is unchanged and the reconstruction scales with the input. Exact up to rounding.
    /// </summary>
    public void ScaleInputs(double factor)
    {
        if (!(factor > 0) || double.IsInfinity(factor)) throw new ArgumentOutOfRangeException(nameof(factor), factor, "must be a positive number");
        using var _ = no_grad();
        using var f = factor.ToScalar(); // held by `using` until the call returns (see Scalars)
        encoder_weight.div_(f);
        decoder_weight.mul_(f);
        decoder_bias.mul_(f);
    }

    /// <summary>Rescales every W_dec row to unit norm (no gradient).</summary>
    public void NormaliseDecoderRows()
    {
        using var _ = no_grad();
        if (OnCpu(decoder_weight))
        {
            var w = MemoryMarshal.Cast<byte, float>(decoder_weight.bytes);
            int d = Config.InputDim;
            for (int j = 0; j < Config.Width; j++)
            {
                var row = w.Slice(j * d, d);
                float norm = MathF.Sqrt(DenseKernels.Dot(row, row));
                DenseKernels.Scale(row, 1f / MathF.Max(norm, 1e-12f));
            }
            return;
        }
        using var scope = NewDisposeScope();
        decoder_weight.div_(decoder_weight.norm(1, keepdim: true).clamp_min(1e-12));
    }

    // W_dec and its gradient as plain contiguous float32 CPU storage: the unit-norm steps then run as managed loops.
    private static bool OnCpu(Tensor t) => t.device_type == DeviceType.CPU && t.dtype == ScalarType.Float32 && t.is_contiguous();

    public override Tensor forward(Tensor x) => Reconstruct(x);
}
