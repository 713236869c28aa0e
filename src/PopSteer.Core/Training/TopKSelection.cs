using System.Buffers;
using System.Runtime.InteropServices;
using PopSteer.Core.Scoring;
using TorchSharp;
using static TorchSharp.torch;

namespace PopSteer.Core.Training;

/// <summary>
/// The index set torch.topk(k, dim: 1) picks in each row of a CPU float matrix, selected in managed code: the SAE's
/// autograd training step ranks [64, 4,096] pre-activations every step (the managed step, <see cref="SaeTrainingStep"/>,
/// has its own column top-k), and libtorch's topk took 17% of a batch-64 epoch
/// (`PopSteer.Bench train-profile`). Rows are split over the torch thread count. The SAE sums over the chosen set, so
/// the order inside it does not matter; ties at the k-th value go to the lower index. Anything but a 2-D float CPU
/// tensor goes to torch.topk.
/// </summary>
internal static class TopKSelection
{
    /// <param name="parts">Row blocks ranked in parallel; 0: one per torch thread (at least 16 rows each).</param>
    public static Tensor Indices(Tensor z, int k, int parts = 0)
    {
        if (z.device_type != DeviceType.CPU || z.dtype != ScalarType.Float32 || z.dim() != 2 || k < 1 || k > z.shape[1])
            return z.topk(k, dim: 1).indexes;
        int rows = (int)z.shape[0], width = (int)z.shape[1];
        var values = ArrayPool<float>.Shared.Rent(rows * width);
        try
        {
            // Tensor.bytes is a view of the storage (data<T>() copies element by element: ~10 ns each, 2.6 ms here).
            using (var dense = z.contiguous()) MemoryMarshal.Cast<byte, float>(dense.bytes)[..(rows * width)].CopyTo(values);
            var chosen = new long[rows * k];
            if (parts <= 0) parts = Math.Clamp(rows / 16, 1, Math.Max(1, get_num_threads()));
            Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, part =>
            {
                var indices = new int[k];
                var best = new float[k];
                for (int r = part * rows / parts; r < (part + 1) * rows / parts; r++)
                {
                    int count = DenseKernels.SelectTop(values.AsSpan(r * width, width), k, indices, best);
                    for (int j = 0; j < count; j++) chosen[r * k + j] = indices[j];
                }
            });
            return tensor(chosen, [rows, k]);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(values);
        }
    }
}
