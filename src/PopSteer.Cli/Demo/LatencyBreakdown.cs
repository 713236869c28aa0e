using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using HdrHistogram;
using PopSteer.Ingest;
using PopSteer.Scorer;

namespace PopSteer.Cli.Demo;

/// <summary>
/// Where event-to-recommendation latency goes, for the summary: the services' own stage timings (read from their
/// meters, as a Prometheus scrape would) and the two halves of each recommendation's latency that its timestamps
/// split: from the event entering Kafka to the Scorer taking up the user (the Ingest hop, Ingest, the signal hop, the
/// Scorer's batching and sequence read) and from there to the view reading the list (scoring, the produce and its
/// acknowledgement, the commit, the last hop). Only after the warm-up, like the steady latency.
/// </summary>
internal sealed class LatencyBreakdown : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, LongHistogram> _histograms = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly Dictionary<string, double> _scorerTotals = new(StringComparer.Ordinal);
    private long _scorerUsers, _scorerBatches, _recordingSince, _lastScorerStage;
    private volatile bool _recording;

    public LatencyBreakdown()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name is ScorerMetrics.MeterName or IngestMetrics.MeterName) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            if (!_recording) return;
            if (instrument.Name == "popsteer.scorer.stage.duration" && tags.Length > 0 && tags[0].Value is string stage)
            {
                Record($"scorer {stage}", value);
                lock (_gate) _scorerTotals[stage] = _scorerTotals.GetValueOrDefault(stage) + value;
                Interlocked.Exchange(ref _lastScorerStage, Stopwatch.GetTimestamp());
            }
            else if (instrument.Name == "popsteer.ingest.batch.duration") Record("ingest batch", value);
            else if (instrument.Name == "popsteer.ingest.stage.duration" && tags.Length > 0 && tags[0].Value is string step) Record($"ingest {step}", value);
        });
        _listener.SetMeasurementEventCallback<int>((instrument, value, _, _) =>
        {
            if (!_recording || instrument.Name != "popsteer.scorer.batch.size") return;
            Interlocked.Add(ref _scorerUsers, value);
            Interlocked.Increment(ref _scorerBatches);
        });
        _listener.Start();
    }

    /// <summary>From now on (after the warm-up) measurements count.</summary>
    public void StartRecording()
    {
        Interlocked.Exchange(ref _recordingSince, Stopwatch.GetTimestamp());
        _recording = true;
    }

    public bool Recording => _recording;

    /// <summary>One recommendation's halves: event in Kafka -> Scorer took it up, and Scorer -> the view read it.</summary>
    public void Recommendation(TimeSpan toScorer, TimeSpan fromScorer)
    {
        if (!_recording) return;
        Record("to scorer", toScorer.TotalMilliseconds);
        Record("from scorer", fromScorer.TotalMilliseconds);
    }

    private void Record(string name, double ms)
    {
        long micros = Math.Clamp((long)(ms * 1000), 1, 3_600_000_000L);
        lock (_gate)
        {
            if (!_histograms.TryGetValue(name, out var h)) _histograms[name] = h = new LongHistogram(3_600_000_000L, 3);
            h.RecordValue(micros);
        }
    }

    /// <summary>"name p50/p99 ms" for every part measured, in the path's order.</summary>
    public string Describe()
    {
        string[] order = ["to scorer", "from scorer", "ingest collect", "ingest batch", "ingest append", "ingest signal", "ingest commit", "scorer collect", "scorer read", "scorer score", "scorer publish", "scorer commit", "scorer account"];
        lock (_gate)
        {
            var parts = order.Where(_histograms.ContainsKey).Select(name =>
            {
                var h = _histograms[name];
                return string.Create(CultureInfo.InvariantCulture, $"{name} {h.GetValueAtPercentile(50) / 1000.0:0.0}/{h.GetValueAtPercentile(99) / 1000.0:0.0}");
            });
            long batches = Interlocked.Read(ref _scorerBatches);
            var size = batches == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $"; {Interlocked.Read(ref _scorerUsers) / (double)batches:0.0} users per Scorer batch");
            return string.Join(", ", parts) + size + LoopShares();
        }
    }

    /// <summary>
    /// The Scorer's time in each stage since the warm-up as a share of the wall time until its last stage ended; the
    /// remainder is waiting for a first signal, the dead-letter path and the loop itself. What bounds the maximum rate
    /// when the loop is never idle. The span ends at the Scorer's last stage, not when the summary is written: a flood
    /// is drained seconds before the demo stops (it waits for 3 quiet seconds), and that idle tail read as 30-43% of
    /// "the rest" before. Publish (from the hand-off to the last delivery report) runs beside the loop while the next
    /// batch is handled (Scoring:BatchesInFlight), so it is shown but not taken from the remainder. Read and score run
    /// beside the loop too when batches are scored on pool threads (Scoring:ConcurrentBatches): then the loop's
    /// stages add up past 100% and no remainder is given.
    /// </summary>
    private string LoopShares()
    {
        long since = Interlocked.Read(ref _recordingSince);
        if (since == 0 || _scorerTotals.Count == 0) return "";
        long last = Interlocked.Read(ref _lastScorerStage);
        double wall = Stopwatch.GetElapsedTime(since, Math.Max(since, last)).TotalMilliseconds;
        if (wall <= 0) return "";
        string[] stages = ["collect", "read", "score", "publish", "commit", "account"];
        var shares = stages.Where(_scorerTotals.ContainsKey)
            .Select(stage => string.Create(CultureInfo.InvariantCulture, $"{stage}{(stage == Beside ? " (beside the loop)" : "")} {100 * _scorerTotals[stage] / wall:0}%")).ToList();
        double rest = 100 * (wall - _scorerTotals.Where(t => t.Key != Beside).Sum(t => t.Value)) / wall;
        if (rest >= 0) shares.Add(string.Create(CultureInfo.InvariantCulture, $"the rest (idle, loop) {rest:0}%"));
        else shares.Add("(stages overlapping the loop: more than 100% in all)");
        return "; Scorer stages' time: " + string.Join(", ", shares);
    }

    /// <summary>The stage that overlaps the loop by design: a batch's delivery reports arrive while the next is scored.</summary>
    private const string Beside = "publish";

    public void Dispose() => _listener.Dispose();
}
