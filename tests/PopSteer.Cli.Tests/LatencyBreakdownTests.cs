using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text.RegularExpressions;
using PopSteer.Cli.Demo;
using PopSteer.Scorer;

namespace PopSteer.Cli.Tests;

/// <summary>
/// The demo's split of the Scorer loop's time into its stages. It reads the Scorer's meter as a scrape would; no other
/// test in this assembly runs a Scorer, so the stages recorded here are the only ones it sees.
/// </summary>
public sealed partial class LatencyBreakdownTests
{
    [Fact]
    public void The_stage_shares_cover_the_span_the_Scorer_worked_not_the_idle_time_after_its_last_batch()
    {
        using var meter = new Meter(ScorerMetrics.MeterName);
        var stage = meter.CreateHistogram<double>("popsteer.scorer.stage.duration");
        using var breakdown = new LatencyBreakdown();
        breakdown.StartRecording();

        // One model call that took the whole span so far, then a drained stream: the demo waits for quiet seconds
        // before it writes the summary.
        var busy = Stopwatch.StartNew();
        while (busy.ElapsedMilliseconds < 200) Thread.SpinWait(1_000);
        stage.Record(busy.Elapsed.TotalMilliseconds, new KeyValuePair<string, object?>("stage", "score"));
        Thread.Sleep(600);

        var described = breakdown.Describe();
        var share = ScoreShare().Match(described);
        Assert.True(share.Success, described);
        // Against the time until the summary the call would read as about a quarter of it.
        Assert.InRange(int.Parse(share.Groups[1].Value, CultureInfo.InvariantCulture), 90, 100);
    }

    [Fact]
    public void Publishing_runs_beside_the_loop_so_it_is_not_taken_from_the_rest()
    {
        using var meter = new Meter(ScorerMetrics.MeterName);
        var stage = meter.CreateHistogram<double>("popsteer.scorer.stage.duration");
        using var breakdown = new LatencyBreakdown();
        breakdown.StartRecording();

        // The model call takes the span; the delivery reports of the batch before it came in meanwhile.
        var busy = Stopwatch.StartNew();
        while (busy.ElapsedMilliseconds < 200) Thread.SpinWait(1_000);
        stage.Record(150, new KeyValuePair<string, object?>("stage", "publish"));
        stage.Record(busy.Elapsed.TotalMilliseconds, new KeyValuePair<string, object?>("stage", "score"));

        var described = breakdown.Describe();
        Assert.Contains("publish (beside the loop) ", described);
        var rest = Rest().Match(described);
        Assert.True(rest.Success, described);
        Assert.InRange(int.Parse(rest.Groups[1].Value, CultureInfo.InvariantCulture), 0, 10);
    }

    [GeneratedRegex(@"the rest \(idle, loop\) (\d+)%")]
    private static partial Regex Rest();

    [GeneratedRegex(@"Scorer stages' time: .*?score (\d+)%")]
    private static partial Regex ScoreShare();
}
