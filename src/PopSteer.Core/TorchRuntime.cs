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
}
