using System.Runtime.CompilerServices;

namespace PopSteer.Core.Tests;

internal static class TorchThreads
{
    /// <summary>
    /// The tests' tensors are tiny and the machine's cores are shared: with more than one intra-op thread, OpenMP
    /// workers waiting on each other made a 5-second training test take over a minute under load.
    /// </summary>
    [ModuleInitializer]
    internal static void OneThread() => TorchRuntime.ConfigureThreads(1);
}
