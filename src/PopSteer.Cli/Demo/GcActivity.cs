using System.Diagnostics.Tracing;
using System.Globalization;

namespace PopSteer.Cli.Demo;

/// <summary>
/// What the garbage collector did while the demo streamed: collections per generation, what was allocated, and how
/// long it stopped the process's threads, in all and at the longest. A stop of every managed thread lands on whatever
/// events are in flight, so the longest pause is a floor under the latency's tail; the speed issue names GC among the
/// places the path's time might go, and this is the measurement. The pauses come from the runtime's own GC events
/// (suspend begin to restart end), read in-process; the totals from <see cref="GC"/>.
/// </summary>
internal sealed class GcActivity : EventListener
{
    private const string RuntimeSource = "Microsoft-Windows-DotNETRuntime";
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly int[] _collections = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
    private readonly TimeSpan _paused = GC.GetTotalPauseDuration();
    private readonly long _allocated = GC.GetTotalAllocatedBytes();
    private readonly DateTime _startedAt = DateTime.UtcNow;
    private readonly object _gate = new();
    private DateTime? _suspendedAt;
    private TimeSpan _longest;
    private int _over10Ms;

    /// <summary>
    /// Collections per generation as <see cref="GC.CollectionCount"/> counts them (a gen-1 collection counts for gen 0 too,
    /// so 245/194/7 is 245 collections, 194 of them gen 1 or 2), pause time, the longest pause and pauses over 10 ms,
    /// allocation rate.
    /// </summary>
    public sealed record Summary(int[] Collections, TimeSpan Paused, TimeSpan Longest, int PausesOver10Ms, double AllocatedMbPerSecond, double WallSeconds)
    {
        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"GC while streaming: {Collections[0]}/{Collections[1]}/{Collections[2]} collections (gen 0/1/2), paused {Paused.TotalMilliseconds:0} ms " +
            $"({100 * Paused.TotalSeconds / Math.Max(1e-3, WallSeconds):0.0}% of the time), longest pause {Longest.TotalMilliseconds:0.0} ms, " +
            $"{PausesOver10Ms} over 10 ms; {AllocatedMbPerSecond:0} MB/s allocated");
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == RuntimeSource) EnableEvents(eventSource, EventLevel.Informational, GcKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        // Suspension and restart bracket every pause, foreground or background GC alike.
        if (e.EventName is null) return;
        lock (_gate)
        {
            if (e.EventName.StartsWith("GCSuspendEEBegin", StringComparison.Ordinal)) _suspendedAt = e.TimeStamp;
            else if (e.EventName.StartsWith("GCRestartEEEnd", StringComparison.Ordinal) && _suspendedAt is { } at)
            {
                var pause = e.TimeStamp - at;
                if (pause > _longest) _longest = pause;
                if (pause > TimeSpan.FromMilliseconds(10)) _over10Ms++;
                _suspendedAt = null;
            }
        }
    }

    /// <summary>Everything since this listener was made; may be called again (the events of a pause arrive a moment after it).</summary>
    public Summary Stop()
    {
        double wall = (DateTime.UtcNow - _startedAt).TotalSeconds;
        lock (_gate)
            return new Summary(
                [GC.CollectionCount(0) - _collections[0], GC.CollectionCount(1) - _collections[1], GC.CollectionCount(2) - _collections[2]],
                GC.GetTotalPauseDuration() - _paused, _longest, _over10Ms,
                (GC.GetTotalAllocatedBytes() - _allocated) / 1e6 / Math.Max(1e-3, wall), wall);
    }
}
