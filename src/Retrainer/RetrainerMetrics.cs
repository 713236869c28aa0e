using System.Diagnostics.Metrics;

namespace PopSteer.Retrainer;

/// <summary>
/// Meter "PopSteer.Retrainer": drift of the live popularity from the serving model's, the refits and the numbers of
/// the last validation. Exported with every PopSteer meter by the metrics endpoint (Metrics:Port).
/// </summary>
public sealed class RetrainerMetrics : IDisposable
{
    public const string MeterName = "PopSteer.Retrainer";

    private readonly Meter _meter;
    private readonly Counter<long> _events;
    private readonly Counter<long> _invalid;
    private readonly Counter<long> _checkpoints;
    private readonly Counter<long> _refits;
    private double _js = double.NaN;
    private double _jsNoise = double.NaN;
    private double _overlap = double.NaN;
    private double _unknownShare = double.NaN;
    private double _fvu = double.NaN;
    private double _ndcgSasRec = double.NaN;
    private double _ndcgPopSteer = double.NaN;
    private double _giniSasRec = double.NaN;
    private double _giniPopSteer = double.NaN;
    private long _eventsSinceRefit;
    private long _unpublishedInARow;

    /// <param name="options">When given, the drift thresholds are exported beside the drift, so alerts compare against the configured values.</param>
    public RetrainerMetrics(IMeterFactory meterFactory, Microsoft.Extensions.Options.IOptions<RetrainerOptions>? options = null)
    {
        _meter = meterFactory.Create(MeterName);
        if (options?.Value is { } o)
        {
            _meter.CreateObservableGauge("popsteer.retrainer.drift.threshold", () => o.DriftThreshold, null,
                "Retrainer:DriftThreshold: JS divergence (bits) at which a refit is due.");
            _meter.CreateObservableGauge("popsteer.retrainer.drift.min_head_overlap", () => o.MinHeadOverlap, null,
                "Retrainer:MinHeadOverlap: head overlap below which a refit is due.");
        }
        _meter.CreateObservableGauge("popsteer.retrainer.refits.unpublished_in_a_row", () => Interlocked.Read(ref _unpublishedInARow), "{refit}",
            "Refit attempts since the last published one that were rejected by validation or failed.");
        _events = _meter.CreateCounter<long>("popsteer.retrainer.events", "{event}", "Interactions counted into the live popularity.");
        _invalid = _meter.CreateCounter<long>("popsteer.retrainer.events.invalid", "{event}", "Malformed interactions skipped (Ingest dead-letters them).");
        _checkpoints = _meter.CreateCounter<long>("popsteer.retrainer.checkpoints", "{checkpoint}", "Popularity checkpoints written to Redis (then offsets committed).");
        _refits = _meter.CreateCounter<long>("popsteer.retrainer.refits", "{refit}", "Refit attempts by outcome: published, rejected (failed validation) or failed (error).");
        // Every outcome's series starts at 0, so Prometheus' increase() sees the first refit after a restart.
        foreach (var outcome in new[] { "published", "rejected", "failed" })
            _refits.Add(0, new KeyValuePair<string, object?>("outcome", outcome));
        _meter.CreateObservableGauge("popsteer.retrainer.drift.js_divergence", () => Volatile.Read(ref _js), null,
            "Jensen-Shannon divergence in bits (0 identical .. 1 disjoint) between live and serving-model item popularity.");
        _meter.CreateObservableGauge("popsteer.retrainer.drift.js_noise", () => Volatile.Read(ref _jsNoise), null,
            "The JS divergence (bits) sampling alone gives a live sample of this mass from the serving model's own popularity; the drift rule uses js_divergence minus this.");
        _meter.CreateObservableGauge("popsteer.retrainer.drift.head_overlap", () => Volatile.Read(ref _overlap), null,
            "Share of the serving model's head items still in the live head.");
        _meter.CreateObservableGauge("popsteer.retrainer.drift.unknown_share", () => Volatile.Read(ref _unknownShare), null,
            "Share of live popularity on items the serving model does not know.");
        _meter.CreateObservableGauge("popsteer.retrainer.events_since_refit", () => Interlocked.Read(ref _eventsSinceRefit), null,
            "Interactions counted since the last refit attempt.");
        _meter.CreateObservableGauge("popsteer.retrainer.validation.fvu", () => Volatile.Read(ref _fvu), null, "SAE FVU on held-out users, last refit.");
        _meter.CreateObservableGauge("popsteer.retrainer.validation.ndcg", () => new[]
        {
            new Measurement<double>(Volatile.Read(ref _ndcgSasRec), new KeyValuePair<string, object?>("method", "sasrec")),
            new Measurement<double>(Volatile.Read(ref _ndcgPopSteer), new KeyValuePair<string, object?>("method", "popsteer")),
        }, null, "NDCG@10 on held-out last items, last refit.");
        _meter.CreateObservableGauge("popsteer.retrainer.validation.gini", () => new[]
        {
            new Measurement<double>(Volatile.Read(ref _giniSasRec), new KeyValuePair<string, object?>("method", "sasrec")),
            new Measurement<double>(Volatile.Read(ref _giniPopSteer), new KeyValuePair<string, object?>("method", "popsteer")),
        }, null, "Gini@10 of the held-out users' lists, last refit.");
    }

    public void EventCounted() => _events.Add(1);

    public void InvalidEvent() => _invalid.Add(1);

    public void Checkpointed() => _checkpoints.Add(1);

    public void Drift(DriftReport report, long eventsSinceRefit)
    {
        Volatile.Write(ref _js, report.JsDivergence);
        Volatile.Write(ref _jsNoise, report.SamplingNoiseJs);
        Volatile.Write(ref _overlap, report.HeadOverlap);
        Volatile.Write(ref _unknownShare, report.UnknownShare);
        Interlocked.Exchange(ref _eventsSinceRefit, eventsSinceRefit);
    }

    public void Refit(RefitResult result)
    {
        _refits.Add(1, new KeyValuePair<string, object?>("outcome", result.Outcome.ToString().ToLowerInvariant()));
        if (result.Outcome == RefitOutcome.Published) Interlocked.Exchange(ref _unpublishedInARow, 0);
        else Interlocked.Increment(ref _unpublishedInARow);
        if (result.Validation is not { } v) return;
        Volatile.Write(ref _fvu, v.Fvu);
        Volatile.Write(ref _ndcgSasRec, v.SasRec.Ndcg);
        Volatile.Write(ref _ndcgPopSteer, v.PopSteer.Ndcg);
        Volatile.Write(ref _giniSasRec, v.SasRec.Gini);
        Volatile.Write(ref _giniPopSteer, v.PopSteer.Gini);
    }

    public void RefitFailed()
    {
        _refits.Add(1, new KeyValuePair<string, object?>("outcome", "failed"));
        Interlocked.Increment(ref _unpublishedInARow);
    }

    public void Dispose() => _meter.Dispose();
}
