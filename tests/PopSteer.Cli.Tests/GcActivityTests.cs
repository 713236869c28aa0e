using System.Diagnostics;
using PopSteer.Cli.Demo;

namespace PopSteer.Cli.Tests;

/// <summary>The demo's account of the garbage collector while it streamed: collections, allocation and pauses.</summary>
public sealed class GcActivityTests
{
    [Fact]
    public void Counts_the_collections_the_allocation_and_the_pauses_inside_its_window()
    {
        using var gc = new GcActivity();
        var kept = new List<byte[]>();
        for (int round = 0; round < 4; round++)
        {
            for (int i = 0; i < 2_000; i++) kept.Add(new byte[1_024]);
            GC.Collect(0, GCCollectionMode.Forced, blocking: true);
        }

        // The pauses arrive as runtime events on the listener's own dispatch thread, a moment after each collection.
        var summary = gc.Stop();
        var clock = Stopwatch.StartNew();
        while (summary.Longest == TimeSpan.Zero && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            Thread.Sleep(50);
            summary = gc.Stop();
        }

        Assert.True(summary.Collections[0] >= 4, $"{summary.Collections[0]} gen-0 collections counted, 4 were forced");
        Assert.True(summary.Paused > TimeSpan.Zero, "no pause time counted");
        Assert.True(summary.Longest > TimeSpan.Zero, "no pause seen in the runtime's GC events");
        // 8,000 arrays of 1 KiB at least, over however long the window lasted.
        Assert.True(summary.AllocatedMbPerSecond * summary.WallSeconds >= 8.0, $"{summary.AllocatedMbPerSecond * summary.WallSeconds:0.0} MB counted, at least 8.2 allocated");
        GC.KeepAlive(kept);
    }

    [Fact]
    public void The_summary_gives_the_pause_time_as_a_share_of_the_window()
    {
        var summary = new GcActivity.Summary([254, 90, 1], TimeSpan.FromMilliseconds(900), TimeSpan.FromMilliseconds(12.6), 2, 92.4, 45);

        Assert.Equal("GC while streaming: 254/90/1 collections (gen 0/1/2), paused 900 ms (2.0% of the time), longest pause 12.6 ms, 2 over 10 ms; 92 MB/s allocated",
            summary.ToString());
    }
}
