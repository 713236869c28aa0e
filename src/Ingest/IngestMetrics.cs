using System.Diagnostics.Metrics;

namespace PopSteer.Ingest;

/// <summary>
/// Meter "PopSteer.Ingest" (for any metrics exporter) plus running totals that an in-process host such as the demo
/// can read directly.
/// </summary>
public sealed class IngestMetrics : IDisposable
{
    public const string MeterName = "PopSteer.Ingest";

    private readonly Meter _meter;
    private readonly Counter<long> _applied;
    private readonly Counter<long> _redelivered;
    private readonly Counter<long> _deadLettered;
    private readonly Counter<long> _batches;
    private readonly Counter<long> _partitionResets;
    private readonly Counter<long> _resent;
    private readonly Histogram<double> _batchMilliseconds;
    private readonly Histogram<double> _stage;
    private long _appliedTotal;
    private long _redeliveredTotal;
    private long _deadLetteredTotal;
    private long _batchesTotal;
    private long _signalsTotal;
    private long _partitionResetsTotal;
    private long _resentTotal;

    public IngestMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _applied = _meter.CreateCounter<long>("popsteer.ingest.events.applied", description: "Events appended to users' sequences.");
        _redelivered = _meter.CreateCounter<long>("popsteer.ingest.events.redelivered", description: "Valid events skipped because their offset was already applied.");
        _deadLettered = _meter.CreateCounter<long>("popsteer.ingest.events.deadlettered", description: "Malformed messages sent to the dead-letter topic.");
        _batches = _meter.CreateCounter<long>("popsteer.ingest.batches", description: "Batches applied and committed.");
        _partitionResets = _meter.CreateCounter<long>("popsteer.ingest.partition_resets", description: "Source partitions whose log restarted below what was applied (topic recreated or truncated): a new epoch.");
        _resent = _meter.CreateCounter<long>("popsteer.ingest.messages.resent", description: "Signals and dead letters sent again because their delivery failed (their batch stays uncommitted until they are in).");
        _batchMilliseconds = _meter.CreateHistogram<double>("popsteer.ingest.batch.duration", unit: "ms", description: "Apply + signal + commit time per batch.");
        _stage = _meter.CreateHistogram<double>("popsteer.ingest.stage.duration", "ms", "Time per batch stage (tag stage = collect, append, signal, commit).");
    }

    public long EventsApplied => Interlocked.Read(ref _appliedTotal);
    public long EventsRedelivered => Interlocked.Read(ref _redeliveredTotal);
    public long DeadLettered => Interlocked.Read(ref _deadLetteredTotal);
    public long Batches => Interlocked.Read(ref _batchesTotal);
    public long SignalsSent => Interlocked.Read(ref _signalsTotal);
    public long PartitionResets => Interlocked.Read(ref _partitionResetsTotal);
    public long MessagesResent => Interlocked.Read(ref _resentTotal);

    internal void Resent(int count)
    {
        Interlocked.Add(ref _resentTotal, count);
        _resent.Add(count);
    }

    internal void PartitionReset()
    {
        Interlocked.Increment(ref _partitionResetsTotal);
        _partitionResets.Add(1);
    }

    internal void BatchCommitted(int applied, int redelivered, int deadLettered, int signals, TimeSpan elapsed)
    {
        Interlocked.Add(ref _appliedTotal, applied);
        Interlocked.Add(ref _redeliveredTotal, redelivered);
        Interlocked.Add(ref _deadLetteredTotal, deadLettered);
        Interlocked.Add(ref _signalsTotal, signals);
        Interlocked.Increment(ref _batchesTotal);
        _applied.Add(applied);
        _redelivered.Add(redelivered);
        _deadLettered.Add(deadLettered);
        _batches.Add(1);
        _batchMilliseconds.Record(elapsed.TotalMilliseconds);
    }

    /// <summary>One stage of a batch: collect (first message to hand-off), append (Redis), signal (produce to the last delivery report), commit.</summary>
    internal void Stage(string stage, TimeSpan elapsed) => _stage.Record(elapsed.TotalMilliseconds, new KeyValuePair<string, object?>("stage", stage));

    public void Dispose() => _meter.Dispose();
}
