using System.Runtime.InteropServices;
using PopSteer.Core.Scoring;
using TorchSharp;
using static TorchSharp.torch;

namespace PopSteer.Core.Training;

/// <summary>
/// SASRec's training loss, the mean full-softmax cross-entropy over the catalogue, L = mean_i (logsumexp_j z_ij - z_i,t_i)
/// with z = h E^T, and its gradient dL/dz = (softmax(z) - onehot(t)) / N, written in one pass over the logits in
/// place of them. Autograd's cross_entropy keeps the log-softmax, then walks the [N, catalogue] matrix again for the
/// NLL, its backward and the log-softmax's backward: at ML-1M shapes ([2,048, 3,456] floats, 28 MB per step, far
/// outside the caches) those passes were most of the output layer's share of an epoch (docs/speed.md). Here each row
/// is read and written once while it sits in L1; the two matmuls of the backward (dL/dh = G E, dL/dE = G^T h) stay
/// libtorch's.
/// </summary>
internal static class FullSoftmaxCrossEntropy
{
    /// <summary>
    /// Overwrites <paramref name="logits"/> [N, width] with dL/dz and returns L. Only the first <paramref name="columns"/>
    /// columns are the catalogue; the rest (padding the matmul to a multiple of 32) get gradient 0 and no probability.
    /// A CPU float tensor is done in managed code, anything else with tensor operations.
    /// </summary>
    /// <param name="parts">Row blocks done in parallel by managed code; 0: one per torch thread (at least 64 rows each). On 2
    /// cores two parts measured no faster than one while libtorch's OpenMP workers spin after the logits matmul
    /// (docs/speed.md); with OMP_WAIT_POLICY=PASSIVE two measured 9.0 ms against 13.9 for one.</param>
    public static double LossAndGradient(Tensor logits, int columns, ReadOnlySpan<int> targets, bool managed = true, int parts = 0)
    {
        int rows = (int)logits.shape[0], width = (int)logits.shape[1];
        if (targets.Length != rows) throw new ArgumentException($"{targets.Length} targets for {rows} rows of logits.", nameof(targets));
        if (columns < 1 || columns > width) throw new ArgumentOutOfRangeException(nameof(columns), columns, $"must lie in 1..{width}");
        foreach (int t in targets)
            if ((uint)t >= (uint)columns) throw new ArgumentOutOfRangeException(nameof(targets), t, $"a target must lie in 0..{columns - 1}");
        if (rows == 0) return double.NaN;
        // A span holds at most int.MaxValue elements: larger logits (a catalogue in the millions) take the tensor path.
        return managed && logits.device_type == DeviceType.CPU && logits.dtype == ScalarType.Float32 && logits.is_contiguous()
               && (long)rows * width <= int.MaxValue
            ? Managed(logits, rows, width, columns, targets.ToArray(), parts)
            : WithTensors(logits, columns, targets);
    }

    private static double Managed(Tensor logits, int rows, int width, int columns, int[] targets, int parts)
    {
        // A Span cannot enter the lambda; libtorch's storage does not move, so each part takes its own view of it.
        if (parts <= 0) parts = Math.Clamp(rows / 64, 1, Math.Max(1, get_num_threads()));
        var partLoss = new double[parts];
        float share = 1f / rows;
        Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, part =>
        {
            var all = MemoryMarshal.Cast<byte, float>(logits.bytes);
            double sum = 0;
            for (int r = part * rows / parts; r < (part + 1) * rows / parts; r++)
            {
                var row = all.Slice(r * width, width);
                sum += DenseKernels.CrossEntropyRow(row[..columns], targets[r], share);
                row[columns..].Clear();
            }
            partLoss[part] = sum;
        });
        return partLoss.Sum() / rows;
    }

    private static double WithTensors(Tensor logits, int columns, ReadOnlySpan<int> targets)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        long rows = logits.shape[0];
        var catalogue = logits.narrow(1, 0, columns);
        var index = tensor(targets.ToArray().Select(t => (long)t).ToArray(), device: logits.device).unsqueeze(1);
        var normaliser = catalogue.logsumexp(1, keepdim: true);
        double loss = normaliser.sub(catalogue.gather(1, index)).mean().item<float>();
        catalogue.sub_(normaliser).exp_().div_(rows);
        catalogue.scatter_add_(1, index, full(index.shape, -1.0 / rows, dtype: logits.dtype, device: logits.device));
        if (logits.shape[1] > columns) logits.narrow(1, columns, logits.shape[1] - columns).zero_();
        return loss;
    }
}
