using PopSteer.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace PopSteer.Core.Tests;

public class TorchRuntimeTests
{
    [Fact]
    public void TorchSharp_initialises_and_multiplies_on_the_cpu()
    {
        // Loading libLibTorchSharp.so is the part Debian 12 breaks without the build's weak-version patch.
        using var a = tensor(new float[] { 1, 2, 3, 4 }).reshape(2, 2);
        using var b = a.matmul(a);
        Assert.Equal(new float[] { 7, 10, 15, 22 }, b.data<float>().ToArray());
    }

    [Fact]
    public void Device_setting_is_parsed_and_bad_values_are_refused()
    {
        Assert.Equal(DeviceType.CPU, TorchRuntime.ResolveDevice("cpu").type);
        Assert.Equal(cuda.is_available() ? DeviceType.CUDA : DeviceType.CPU, TorchRuntime.ResolveDevice("auto").type);
        var ex = Assert.Throws<ArgumentException>(() => TorchRuntime.ResolveDevice("tpu"));
        Assert.Contains("tpu", ex.Message);
    }
}
