using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace PopSteer.Core.Training;

/// <summary>
/// torch.optim.Adam's update (no weight decay, no AMSGrad) in one SIMD pass per parameter over its CPU storage:
/// m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2, p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
/// TorchSharp's Adam runs eight tensor operations per parameter, two of which allocate; at the SAE's batch 64 its
/// step was 26-29% of an epoch (`PopSteer.Bench train-profile`) for a few microseconds of arithmetic per row. A test
/// holds the two to the same parameters over many steps. CPU float32 contiguous parameters only.
/// </summary>
internal sealed class FusedAdam
{
    private readonly Parameter[] _parameters;
    private readonly float[][] _m, _v;
    private readonly double _beta1, _beta2, _eps;
    private long _step;

    public FusedAdam(IEnumerable<Parameter> parameters, double learningRate, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8)
    {
        _parameters = parameters.ToArray();
        foreach (var p in _parameters)
            if (p.device_type != DeviceType.CPU || p.dtype != ScalarType.Float32 || !p.is_contiguous())
                throw new ArgumentException($"FusedAdam needs contiguous float32 CPU parameters; got {p.dtype} on {p.device_type}.", nameof(parameters));
        _m = _parameters.Select(p => new float[p.numel()]).ToArray();
        _v = _parameters.Select(p => new float[p.numel()]).ToArray();
        LearningRate = learningRate;
        (_beta1, _beta2, _eps) = (beta1, beta2, eps);
    }

    public double LearningRate { get; set; }

    /// <summary>True where every parameter lives where this optimiser can update it (contiguous float32 on the CPU).</summary>
    public static bool Supports(IEnumerable<Parameter> parameters) =>
        parameters.All(p => p.device_type == DeviceType.CPU && p.dtype == ScalarType.Float32 && p.is_contiguous());

    public void Step()
    {
        var c = Constants.At(++_step, LearningRate, _beta1, _beta2, _eps);
        for (int i = 0; i < _parameters.Length; i++)
        {
            using var grad = _parameters[i].grad;
            if (grad is null) continue; // as torch: a parameter without a gradient is not stepped
            if (grad.device_type != DeviceType.CPU || grad.dtype != ScalarType.Float32 || !grad.is_contiguous())
                throw new InvalidOperationException("FusedAdam needs contiguous float32 CPU gradients.");
            Update(MemoryMarshal.Cast<byte, float>(_parameters[i].bytes), MemoryMarshal.Cast<byte, float>(grad.bytes), _m[i], _v[i], c);
        }
    }

    /// <summary>One step's coefficients: step t (from 1) with its bias corrections folded in.</summary>
    internal readonly record struct Constants(float Beta1, float OneMinusBeta1, float Beta2, float OneMinusBeta2, float InvSqrtCorrection2, float Eps, float NegStep)
    {
        public static Constants At(long step, double learningRate, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8)
        {
            double correction1 = 1 - Math.Pow(beta1, step), correction2 = 1 - Math.Pow(beta2, step);
            return new Constants((float)beta1, (float)(1 - beta1), (float)beta2, (float)(1 - beta2),
                (float)(1 / Math.Sqrt(correction2)), (float)eps, (float)(-learningRate / correction1));
        }
    }

    /// <summary>Adam's update of p (and its moments m, v) by gradient g, elementwise: any slice of a parameter.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Update(Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v, in Constants c)
    {
        int n = p.Length, i = 0;
        ref float rp = ref MemoryMarshal.GetReference(p);
        ref float rg = ref MemoryMarshal.GetReference(g);
        ref float rm = ref MemoryMarshal.GetReference(m);
        ref float rv = ref MemoryMarshal.GetReference(v);
        var b1 = Vector256.Create(c.Beta1); var a1 = Vector256.Create(c.OneMinusBeta1);
        var b2 = Vector256.Create(c.Beta2); var a2 = Vector256.Create(c.OneMinusBeta2);
        var inv = Vector256.Create(c.InvSqrtCorrection2); var eps = Vector256.Create(c.Eps); var step = Vector256.Create(c.NegStep);
        for (; i + 8 <= n; i += 8)
        {
            var gi = Vector256.LoadUnsafe(ref rg, (nuint)i);
            var mi = Vector256.FusedMultiplyAdd(gi, a1, Vector256.LoadUnsafe(ref rm, (nuint)i) * b1);
            var vi = Vector256.FusedMultiplyAdd(gi * gi, a2, Vector256.LoadUnsafe(ref rv, (nuint)i) * b2);
            mi.StoreUnsafe(ref rm, (nuint)i);
            vi.StoreUnsafe(ref rv, (nuint)i);
            var denominator = Vector256.FusedMultiplyAdd(Vector256.Sqrt(vi), inv, eps);
            Vector256.FusedMultiplyAdd(mi / denominator, step, Vector256.LoadUnsafe(ref rp, (nuint)i)).StoreUnsafe(ref rp, (nuint)i);
        }
        for (; i < n; i++)
        {
            float gi = g[i];
            m[i] = m[i] * c.Beta1 + gi * c.OneMinusBeta1;
            v[i] = v[i] * c.Beta2 + gi * gi * c.OneMinusBeta2;
            p[i] += c.NegStep * (m[i] / (MathF.Sqrt(v[i]) * c.InvSqrtCorrection2 + c.Eps));
        }
    }
}
