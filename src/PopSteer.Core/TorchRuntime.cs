using TorchSharp;

namespace PopSteer.Core;

/// <summary>
/// Chooses the Torch device from a setting ("cpu", "cuda", "auto") and fixes thread counts once per process.
/// </summary>
public static class TorchRuntime
{
    public static torch.Device ResolveDevice(string? setting)
    {
        var s = (setting ?? "auto").Trim().ToLowerInvariant();
        return s switch
        {
            "cpu" => torch.CPU,
            "cuda" => torch.cuda.is_available()
                ? torch.CUDA
                : throw new InvalidOperationException("Device 'cuda' was requested but no CUDA device is available (this build uses the CPU libtorch unless built with -p:TorchFlavor=cuda)."),
            "auto" => torch.cuda.is_available() ? torch.CUDA : torch.CPU,
            _ => throw new ArgumentException($"Unknown device '{setting}': use cpu, cuda or auto.", nameof(setting)),
        };
    }

    /// <summary>
    /// Sets libtorch's intra-op thread count (null or 0: leave libtorch's default, one per core). On a machine whose
    /// cores are shared with other busy processes, 1 is often much faster: OpenMP workers that wait for a descheduled
    /// sibling turn every small operation into a scheduling delay.
    /// </summary>
    public static void ConfigureThreads(int? intraOpThreads)
    {
        if (intraOpThreads is null or 0) return;
        if (intraOpThreads < 0) throw new ArgumentOutOfRangeException(nameof(intraOpThreads), intraOpThreads, "Thread count must be positive (0 = libtorch default).");
        torch.set_num_threads(intraOpThreads.Value);
    }
}
