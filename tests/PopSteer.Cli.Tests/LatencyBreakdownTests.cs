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
public sealed partial class LatencyBreakdownTests : IDisposable
{
    private readonly Meter _meter = new(ScorerMetrics.MeterName);
    private readonly Histogram<double> _stage;
    private readonly LatencyBreakdown _breakdown = new();

    public LatencyBreakdownTests()
    {
        _stage = _meter.CreateHistogram<double>("popsteer.scorer.stage.duration");
        _breakdown.StartRecording();
    }

    [Fact]
    public void The_stage_shares_cover_the_span_the_Scorer_worked_not_the_idle_time_after_its_last_batch()
    {
        // One model call that took the whole span so far, then a drained stream: the demo waits for quiet seconds
        // before it writes the summary.
        Record("score", BusyForMilliseconds(200));
        Thread.Sleep(600);

        // Against the time until the summary the call would read as about a quarter of it. The span also holds the
        // time from the recording's start to the call (89% once, in a full suite on 2 cores), hence not 90.
        Assert.InRange(Share(ScoreShare()), 70, 100);
    }

    [Fact]
    public void Publishing_runs_beside_the_loop_so_it_is_not_taken_from_the_rest()
    {
        // The model call takes the span; the delivery reports of the batch before it came in meanwhile.
        double busy = BusyForMilliseconds(200);
        Record("publish", 150);
        Record("score", busy);

        Assert.Contains("publish (beside the loop) ", _breakdown.Describe());
        Assert.InRange(Share(Rest()), 0, 10);
    }

    private void Record(string stage, double ms) => _stage.Record(ms, new KeyValuePair<string, object?>("stage", stage));

    private static double BusyForMilliseconds(int ms)
    {
        var busy = Stopwatch.StartNew();
        while (busy.ElapsedMilliseconds < ms) Thread.SpinWait(1_000);
        return busy.Elapsed.TotalMilliseconds;
    }

    private int Share(Regex pattern)
    {
        var described = _breakdown.Describe();
        var match = pattern.Match(described);
        Assert.True(match.Success, described);
        return int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex(@"Scorer stages' time: .*?score (\d+)%")]
    private static partial Regex ScoreShare();

    [GeneratedRegex(@"the rest \(idle, loop\) (\d+)%")]
    private static partial Regex Rest();

    public void Dispose()
    {
        _breakdown.Dispose();
        _meter.Dispose();
    }
}
