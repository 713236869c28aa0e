using System.Globalization;

namespace PopSteer.Bench;

/// <summary>
/// The process's resident-set peak over one stretch of work, native (TorchSharp's tensors) and managed alike: Linux
/// resets VmHWM to the current RSS when "5" is written to /proc/self/clear_refs, so the peak read afterwards is this
/// stretch's, not the process's since start-up. Where the reset is refused the peak is since start-up, and says so.
/// </summary>
internal sealed class PeakMemory
{
    private readonly long _startRss;
    private readonly bool _reset;

    private PeakMemory(long startRss, bool reset)
    {
        _startRss = startRss;
        _reset = reset;
    }

    public static PeakMemory Start()
    {
        bool reset;
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            reset = true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            reset = false;
        }
        return new PeakMemory(Read("VmRSS"), reset);
    }

    /// <summary>"RSS 412 MiB before, peak 655 MiB (+243 MiB)".</summary>
    public string Describe()
    {
        long peak = Read("VmHWM");
        return string.Create(CultureInfo.InvariantCulture,
            $"RSS {_startRss / 1024.0:0} MiB before, peak {peak / 1024.0:0} MiB (+{(peak - _startRss) / 1024.0:0} MiB){(_reset ? "" : " (peak since start-up: clear_refs refused)")}");
    }

    /// <summary>A /proc/self/status field in KiB; -1 where it cannot be read (not Linux).</summary>
    private static long Read(string field)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith(field + ":", StringComparison.Ordinal))
                    return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
        }
        return -1;
    }
}
