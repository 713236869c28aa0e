using System.Globalization;

namespace PopSteer.Cli.Demo;

/// <summary>
/// CPU time of this process's threads by name, from /proc/self/task (Linux): where a one-process run's cores go. The
/// demo hosts the embedded broker, Ingest, the Scorer, the Retrainer and its own view in one process, so the split by
/// thread (librdkafka names its threads rdk:*, .NET its pools) is the apportioning the speed issue asks for.
/// </summary>
internal sealed class ThreadCpu
{
    private static readonly double TicksPerSecond = 100; // USER_HZ: 100 on every Linux .NET runs on
    private readonly Dictionary<int, (string Name, long Ticks)> _start;
    private readonly DateTime _startedAt = DateTime.UtcNow;

    private ThreadCpu(Dictionary<int, (string Name, long Ticks)> start) => _start = start;

    /// <summary>Null where /proc is not there to read.</summary>
    public static ThreadCpu? Start() => Directory.Exists("/proc/self/task") ? new ThreadCpu(Read()) : null;

    /// <summary>Seconds of CPU per thread-name group since <see cref="Start"/>, largest first, and the wall seconds between.</summary>
    public (IReadOnlyList<(string Group, double Seconds, int Threads)> Groups, double WallSeconds) Stop()
    {
        var now = Read();
        var groups = new Dictionary<string, (double Seconds, int Threads)>(StringComparer.Ordinal);
        foreach (var (tid, (name, ticks)) in now)
        {
            long before = _start.TryGetValue(tid, out var s) ? s.Ticks : 0;
            double seconds = (ticks - before) / TicksPerSecond;
            if (seconds <= 0) continue;
            var group = Group(name);
            groups[group] = groups.TryGetValue(group, out var g) ? (g.Seconds + seconds, g.Threads + 1) : (seconds, 1);
        }
        return (groups.OrderByDescending(g => g.Value.Seconds).Select(g => (g.Key, g.Value.Seconds, g.Value.Threads)).ToArray(),
            (DateTime.UtcNow - _startedAt).TotalSeconds);
    }

    /// <summary>Thread names with their numbers folded (rdk:broker1 and rdk:broker2 are one kind of work).</summary>
    private static string Group(string name)
    {
        var trimmed = name.TrimEnd('0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ' ', '#');
        return trimmed.Length == 0 ? name : trimmed;
    }

    private static Dictionary<int, (string Name, long Ticks)> Read()
    {
        var threads = new Dictionary<int, (string, long)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                // "tid (comm) state ..." where comm may hold spaces and parentheses: split after the last ')'.
                int open = stat.IndexOf('('), close = stat.LastIndexOf(')');
                var fields = stat[(close + 2)..].Split(' ');
                // Fields after comm start at 3 (state); utime and stime are fields 14 and 15.
                long ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                threads[int.Parse(Path.GetFileName(dir), CultureInfo.InvariantCulture)] = (stat[(open + 1)..close], ticks);
            }
            catch (IOException)
            {
                // The thread ended between the listing and the read.
            }
        }
        return threads;
    }
}
