using System.Globalization;
using System.Text;

namespace PopSteer.Chaos;

/// <summary>One table row: what happened to the events and services while this fault was the latest one injected.</summary>
public sealed class FaultRow(string label)
{
    public string Label { get; } = label;
    public int Count { get; set; }
    /// <summary>Events of this window missing from Redis (or, for the malformed kinds, messages missing from the dead letter).</summary>
    public int Lost { get; set; }
    /// <summary>Extra copies of an event in Redis.</summary>
    public int Doubled { get; set; }
    /// <summary>Users whose last event fell in this window and whose latest recommendation predates it.</summary>
    public int Stale { get; set; }
    /// <summary>Process exits nobody asked for, in this window.</summary>
    public int Crashed { get; set; }
    /// <summary>Recommendations from a forged model or with an alpha that was not in force; dead letters with the wrong code.</summary>
    public int Wrong { get; set; }

    public bool Clean => Lost == 0 && Doubled == 0 && Stale == 0 && Crashed == 0 && Wrong == 0;
}

/// <summary>
/// The verdict against ground truth. Events, stale users and crashes are attributed to the fault in force (the latest
/// one injected before the event was sent, the process exited, ...); the first rows before any fault are "baseline".
/// </summary>
public sealed class DrillReport
{
    private const string Baseline = "baseline (no fault yet)";
    private const string MalformedKinds = "  malformed kinds (dead letter)";

    private readonly Dictionary<string, FaultRow> _rows = new(StringComparer.Ordinal);
    private readonly List<string> _failures = [];
    private readonly List<string> _notes = [];

    public DrillReport(DrillObservations o)
    {
        Observations = o;
        Row(Baseline);
        foreach (var kind in Faults.All.Where(o.Options.Faults.Contains))
        {
            Row(Faults.Label(kind));
            if (kind == FaultKind.MalformedBurst) Row(MalformedKinds);
        }
        foreach (var f in o.Injected) Row(Faults.Label(f.Kind)).Count++;

        CheckSequences(o);
        CheckFreshness(o);
        CheckCrashes(o);
        CheckMalformed(o);
        CheckModel(o);
        CheckAlpha(o);
        if (o.DownAtEnd.Count > 0) _failures.Add($"services down at the end: {string.Join(", ", o.DownAtEnd)}");
        if (!o.Drained) _failures.Add($"the pipeline did not catch up within the drain timeout ({o.Options.DrainTimeout.TotalSeconds:F0} s)");
        foreach (var incident in o.Incidents) _failures.Add(incident);
        int undelivered = o.Replay.Events.Count(e => !e.Delivered);
        if (undelivered > 0) _notes.Add($"{undelivered} events were not acknowledged by the broker and are not ground truth");
    }

    public DrillObservations Observations { get; }

    public IReadOnlyList<FaultRow> Rows => _rows.Values.ToArray();

    public FaultRow Total => new("total")
    {
        Count = Rows.Where(r => r.Label != MalformedKinds).Sum(r => r.Count),
        Lost = Rows.Sum(r => r.Lost),
        Doubled = Rows.Sum(r => r.Doubled),
        Stale = Rows.Sum(r => r.Stale),
        Crashed = Rows.Sum(r => r.Crashed),
        Wrong = Rows.Sum(r => r.Wrong),
    };

    /// <summary>Every check that failed, one line each (empty: the drill passed).</summary>
    public IReadOnlyList<string> Failures => _failures;

    public bool Passed => _failures.Count == 0 && Rows.All(r => r.Clean);

    public FaultRow RowFor(FaultKind kind) => _rows[Faults.Label(kind)];

    public FaultRow MalformedRow => _rows[MalformedKinds];

    public string Render()
    {
        var sb = new StringBuilder();
        var rows = Rows.Append(Total).ToArray();
        int width = Math.Max(32, rows.Max(r => r.Label.Length));
        string Line(string a, string b, string c, string d, string e, string f, string g) =>
            $"| {a.PadRight(width)} | {b,5} | {c,5} | {d,7} | {e,5} | {f,7} | {g,5} |";
        var rule = $"|{new string('-', width + 2)}|------:|------:|--------:|------:|--------:|------:|";
        sb.AppendLine(Line("fault", "count", "lost", "doubled", "stale", "crashed", "wrong"));
        sb.AppendLine(rule);
        foreach (var r in rows)
        {
            if (r.Label == "total") sb.AppendLine(rule);
            sb.AppendLine(Line(r.Label, N(r.Count), N(r.Lost), N(r.Doubled), N(r.Stale), N(r.Crashed), N(r.Wrong)));
        }
        var o = Observations;
        int delivered = o.Replay.Events.Count(e => e.Delivered);
        sb.AppendLine(CultureInfo.InvariantCulture, $"{o.Replay.ByUser.Count} users, {delivered} events acknowledged, {o.Malformed.Count} malformed messages, {o.Recommendations.Count} recommendations, {o.DeadLetters.Count} dead letters; caught up {(o.Drained ? "in" : "NOT within")} {o.Drain.TotalSeconds:F0} s after the replay");
        sb.AppendLine(Throughput(o));
        var crashes = o.Exits.Where(e => e.Crashed).ToArray();
        sb.AppendLine(CultureInfo.InvariantCulture, $"process exits: {o.Exits.Count} ({o.Exits.Count(e => !e.Crashed)} asked for, {crashes.Length} crashes{(crashes.Length > 0 ? ": " + string.Join(", ", crashes.GroupBy(c => (c.Name, c.ExitCode)).Select(g => $"{g.Key.Name} exit {g.Key.ExitCode} x{g.Count()}")) : "")})");
        var graceful = o.Exits.Where(e => e.Cause is "SIGTERM" or "drill end").GroupBy(e => e.ExitCode).Select(g => $"{g.Count()} x code {g.Key}");
        sb.AppendLine($"exit codes after SIGTERM: {string.Join(", ", graceful)}");
        sb.AppendLine($"services down at the end: {(o.DownAtEnd.Count == 0 ? "none" : string.Join(", ", o.DownAtEnd))}");
        sb.AppendLine($"model served {o.ServedVersion} ({(o.Signed ? "signed; Scorers hold the public key" : "unsigned: this build has no model signing")}); forged {o.ForgedVersion ?? "(not injected)"}");
        foreach (var note in _notes) sb.AppendLine("note: " + note);
        foreach (var failure in _failures) sb.AppendLine("FAIL: " + failure);
        sb.AppendLine(Passed ? "PASS: nothing lost, doubled, stale or crashed; every malformed message dead-lettered; no forged model served" : "FAIL: see the lines above and the table");
        return sb.ToString();
    }

    private static string N(int n) => n.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The pipeline's pace over the run: recommendations per second from the first to the last one, and the latency
    /// from an event entering Kafka to its recommendation (generatedAt - enqueuedAt), p50 and p99. Faults stretch both;
    /// a run without faults (--no-faults) is the multi-process load run (bench/load-run.sh, --scorers 1 and 2).
    /// </summary>
    internal static string Throughput(DrillObservations o)
    {
        var recs = o.Recommendations;
        var latencies = recs.Where(r => r.EnqueuedAt is not null).Select(r => (r.GeneratedAt - r.EnqueuedAt!.Value).TotalMilliseconds).Order().ToArray();
        if (recs.Count < 2 || latencies.Length == 0) return "pipeline: too few recommendations to time";
        double span = (recs.Max(r => r.GeneratedAt) - recs.Min(r => r.GeneratedAt)).TotalSeconds;
        static double Quantile(double[] sorted, double q) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
        // Apart: events that entered Kafka in the first 5 s of the run, while consumers still join and find their topics.
        var first = recs.Where(r => r.EnqueuedAt is not null).Min(r => r.EnqueuedAt!.Value);
        var settled = recs.Where(r => r.EnqueuedAt >= first + TimeSpan.FromSeconds(5)).Select(r => (r.GeneratedAt - r.EnqueuedAt!.Value).TotalMilliseconds).Order().ToArray();
        var after = settled.Length == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $"; events after the first 5 s: p50 {Quantile(settled, 0.5):F1} ms, p99 {Quantile(settled, 0.99):F1} ms, max {settled[^1]:F1} ms");
        return string.Create(CultureInfo.InvariantCulture,
            $"pipeline: {o.Options.IngestReplicas} Ingest, {o.Options.ScorerReplicas} Scorer process(es); {recs.Count / Math.Max(span, 1e-3):F0} recommendations/s over {span:F1} s; event-to-recommendation latency p50 {Quantile(latencies, 0.5):F1} ms, p99 {Quantile(latencies, 0.99):F1} ms, max {latencies[^1]:F1} ms{after}");
    }

    private FaultRow Row(string label)
    {
        if (!_rows.TryGetValue(label, out var row)) _rows[label] = row = new FaultRow(label);
        return row;
    }

    /// <summary>The fault in force at <paramref name="at"/>: the latest one injected before it.</summary>
    private FaultRow InForce(DateTimeOffset at, Func<ExecutedFault, bool>? filter = null)
    {
        var fault = Observations.Injected.LastOrDefault(f => f.At <= at && (filter?.Invoke(f) ?? true));
        return Row(fault is null ? Baseline : Faults.Label(fault.Kind));
    }

    private void CheckSequences(DrillObservations o)
    {
        int misordered = 0, unknown = 0;
        foreach (var (user, events) in o.Replay.ByUser)
        {
            var stored = o.Sequences.TryGetValue(user, out var s) ? s : [];
            var counts = stored.GroupBy(t => t).ToDictionary(g => g.Key, g => g.Count());
            var expected = events.Where(e => e.Delivered).ToArray();
            foreach (var e in expected)
            {
                int c = counts.GetValueOrDefault(e.TimestampMs);
                if (c == 0) InForce(e.SentAt).Lost++;
                else if (c > 1) InForce(e.SentAt).Doubled += c - 1;
            }
            var known = expected.Select(e => e.TimestampMs).ToHashSet();
            unknown += stored.Count(t => !known.Contains(t));
            var firstSeen = stored.Where(known.Contains).Distinct().ToArray();
            if (!firstSeen.SequenceEqual(firstSeen.Order()))
            {
                misordered++;
                if (misordered <= 5) _failures.Add($"user {user}: Redis order differs from the order sent ({string.Join(",", firstSeen)})");
            }
        }
        if (misordered > 0) _failures.Add($"{misordered} users' sequences are out of order");
        if (unknown > 0) _failures.Add($"{unknown} entries in the replayed users' sequences were never sent (or never acknowledged)");
    }

    private void CheckFreshness(DrillObservations o)
    {
        var latest = o.Recommendations.GroupBy(r => r.UserId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.MaxBy(r => r.GeneratedAt)!, StringComparer.Ordinal);
        foreach (var (user, events) in o.Replay.ByUser)
        {
            var last = events.LastOrDefault(e => e.Delivered);
            if (last is null) continue;
            if (!latest.TryGetValue(user, out var rec) || rec.EventTimestampMs is not { } ts || ts < last.TimestampMs)
                InForce(last.SentAt).Stale++;
        }
    }

    private void CheckCrashes(DrillObservations o)
    {
        foreach (var exit in o.Exits.Where(e => e.Crashed))
        {
            InForce(exit.ExitedAt).Crashed++;
            var cause = exit.LastLines.Split('\n').FirstOrDefault(l => l.Contains("Exception", StringComparison.Ordinal)) ?? exit.LastLines.Split('\n').LastOrDefault() ?? "";
            _notes.Add($"crash: {exit.Name} pid {exit.Pid} exit {exit.ExitCode} at {exit.ExitedAt:HH:mm:ss}: {(cause.Length > 240 ? cause[..240] + "..." : cause.Trim())}");
            if (exit.ExitCode == 0) _notes.Add($"{exit.Name} pid {exit.Pid} stopped by itself with exit code 0 (a restart-on-failure policy would not restart it)");
        }
    }

    private void CheckMalformed(DrillObservations o)
    {
        if (o.Malformed.Count == 0) return;
        var row = MalformedRow;
        row.Count = o.Malformed.Count;
        var letters = o.DeadLetters.GroupBy(d => (d.Topic, d.Partition, d.Offset)).ToDictionary(g => g.Key, g => g.First());
        foreach (var m in o.Malformed)
        {
            if (m.DeliveryError is not null)
            {
                _notes.Add($"malformed '{m.Kind.Name}' was refused by the broker ({m.DeliveryError}); nothing to dead-letter");
                row.Count--;
                continue;
            }
            if (!letters.TryGetValue((m.Topic, m.Partition, m.Offset), out var letter))
            {
                row.Lost++;
                _failures.Add($"malformed '{m.Kind.Name}' (partition {m.Partition} offset {m.Offset}) is not in the dead letter{(m.Kind.PendingFix is { } fix ? $" [pending: {fix}]" : "")}");
            }
            else if (string.IsNullOrWhiteSpace(letter.Reason) || (m.Kind.ExpectedCode is { } code && letter.Code != code))
            {
                row.Wrong++;
                _failures.Add($"malformed '{m.Kind.Name}' dead-lettered as {letter.Code} ('{letter.Reason}'), expected {m.Kind.ExpectedCode ?? "a reason"}");
            }
        }
    }

    private void CheckModel(DrillObservations o)
    {
        if (o.ForgedVersion is null) return;
        var forged = o.Recommendations.Where(r => r.ModelVersion == o.ForgedVersion).ToArray();
        RowFor(FaultKind.ForgedModel).Wrong += forged.Length + o.ForgedLoads.Count;
        if (o.ForgedLoads.Count > 0)
            _failures.Add($"the forged model {o.ForgedVersion} was loaded for serving {o.ForgedLoads.Count} times ({string.Join(", ", o.ForgedLoads)})");
        if (forged.Length > 0)
            _failures.Add($"{forged.Length} recommendations for {forged.Select(r => r.UserId).Distinct().Count()} users were made by the forged model {o.ForgedVersion}");
    }

    /// <summary>
    /// Every recommendation must carry the last valid alpha written (or, within the grace after a write, the value
    /// before it). A Scorer that started while a bad file was in place is not judged until a valid one follows.
    /// </summary>
    /// <summary>
    /// The settled value, and the one before it when it was replaced within the grace: the services poll the file, so a
    /// valid value overwritten (say by alpha -1) before a replica read it was never seen there, and that replica rightly
    /// keeps its last good value. Found by the full drill: a restore written 1 s before the next fault's file.
    /// </summary>
    private static IEnumerable<double> Tolerated(ConfigWrite[] writes, ConfigWrite settled, TimeSpan grace)
    {
        var w = settled;
        while (true)
        {
            yield return w.Alpha!.Value;
            var i = Array.IndexOf(writes, w);
            bool replacedQuickly = i + 1 < writes.Length && writes[i + 1].At - w.At < grace;
            var before = writes.Take(i).LastOrDefault(x => x.Alpha is not null);
            if (!replacedQuickly || before is null) yield break;
            w = before;
        }
    }

    private void CheckAlpha(DrillObservations o)
    {
        var writes = o.ConfigWrites.OrderBy(w => w.At).ToArray();
        if (writes.Length == 0) return;
        var grace = o.Options.ConfigGrace;
        int wrong = 0;
        var examples = new List<string>();
        foreach (var r in o.Recommendations)
        {
            var settled = writes.LastOrDefault(w => w.Alpha is not null && w.At <= r.GeneratedAt - grace) ?? writes[0];
            var accepted = writes.Where(w => w.Alpha is not null && w.At > r.GeneratedAt - grace && w.At <= r.GeneratedAt).Select(w => w.Alpha!.Value).Concat(Tolerated(writes, settled, grace));
            if (accepted.Any(a => Math.Abs(a - r.Alpha) < 1e-9)) continue;
            if (r.Instance is { } id && o.ScorerInstances.TryGetValue(id, out var started))
            {
                var atStart = writes.LastOrDefault(w => w.At <= started);
                var repaired = writes.FirstOrDefault(w => w.At > started && w.Alpha is not null);
                if (atStart is { Alpha: null } && (repaired is null || r.GeneratedAt < repaired.At + grace)) continue;
            }
            wrong++;
            var config = writes.Last(w => w.At <= r.GeneratedAt);
            var row = config.Kind is { } k && o.Options.Faults.Contains(k) ? RowFor(k) : Row(Baseline);
            row.Wrong++;
            if (examples.Count < 3) examples.Add($"{r.UserId} at {r.GeneratedAt:HH:mm:ss.fff} by {r.Instance}: alpha {r.Alpha}, in force {settled.Alpha} since {settled.At:HH:mm:ss.fff}");
        }
        if (wrong > 0) _failures.Add($"{wrong} recommendations carried an alpha that was not in force (e.g. {string.Join("; ", examples)})");
    }
}
