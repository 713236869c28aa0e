using System.Diagnostics;
using System.Globalization;

namespace PopSteer.Chaos;

/// <summary>The signals the drill sends, by name, through kill(1): no native interop needed.</summary>
public enum UnixSignal { KILL = 9, TERM = 15, STOP = 19, CONT = 18 }

public static class Signals
{
    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/>; false when the process is already gone.</summary>
    public static bool Send(int pid, UnixSignal signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-" + signal, pid.ToString(CultureInfo.InvariantCulture)])
        {
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        kill.WaitForExit();
        return kill.ExitCode == 0;
    }
}
