using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;

namespace PopSteer.Scorer;

/// <summary>
/// The Scorer's instruments on the Meter "PopSteer.Scorer", for any metrics exporter (OpenTelemetry, dotnet-counters)
/// or an in-process <see cref="MeterListener"/>.
/// </summary>
public sealed class ScorerMetrics : IDisposable
{
    public const string MeterName = "PopSteer.Scorer";

    private readonly Meter _meter;
    private readonly Counter<long> _batches;
    private readonly Counter<long> _signals;
    private readonly Counter<long> _usersScored;
    private readonly Counter<long> _fallbacks;
    private readonly Counter<long> _failedBatches;
    private readonly Counter<long> _steeringRefused;
    private readonly Counter<long> _modelsRefused;
    private readonly Counter<long> _isolatedBatches;
    private readonly Counter<long> _poisoned;
    private readonly Counter<long> _modelFallbacks;
    private readonly Counter<long> _readAhead;
    private readonly Counter<long> _scoredBeside;
    private readonly Histogram<double> _batchDuration;
    private readonly Histogram<double> _latency;
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _stage;
    private volatile string _modelVersion = "";
    private double _alpha = double.NaN;
    private double _appliedAlpha = double.NaN;
    private int _neurons = -1;

    /// <param name="models">When given, "popsteer.scorer.model.loaded" says whether a model is loaded (the "no model" alert).</param>
    public ScorerMetrics(IMeterFactory meterFactory, IOptions<ScoringOptions> options, ModelHolder? models = null)
    {
        _meter = meterFactory.Create(MeterName);
        Served = new ServedExposureWindow(options.Value.MetricsWindow);
        Shadow = new ServedExposureWindow(options.Value.MetricsWindow);
        _batches = _meter.CreateCounter<long>("popsteer.scorer.batches", "{batch}", "Micro-batches scored and committed.");
        _signals = _meter.CreateCounter<long>("popsteer.scorer.signals", "{signal}", "Users-changed signals consumed (before de-duplication).");
        _usersScored = _meter.CreateCounter<long>("popsteer.scorer.users_scored", "{user}", "Recommendations published.");
        _fallbacks = _meter.CreateCounter<long>("popsteer.scorer.fallbacks", "{user}", "Users without scorable history (fallback list or none).");
        _failedBatches = _meter.CreateCounter<long>("popsteer.scorer.batches_failed", "{batch}", "Batches that failed and will be consumed again.");
        _steeringRefused = _meter.CreateCounter<long>("popsteer.scorer.steering_refused", "{value}", "Invalid steering values refused.");
        _modelsRefused = _meter.CreateCounter<long>("popsteer.scorer.models_refused", "{version}", "Model versions refused (corrupt or unloadable).");
        // Series that count rare events start at 0, so Prometheus' increase() sees the first one after a restart.
        _failedBatches.Add(0);
        _steeringRefused.Add(0);
        _modelsRefused.Add(0);
        _isolatedBatches = _meter.CreateCounter<long>("popsteer.scorer.batches_isolated", "{batch}", "Batches scored user by user after Scoring:MaxBatchAttempts failed attempts.");
        _poisoned = _meter.CreateCounter<long>("popsteer.scorer.users_dead_lettered", "{user}", "Users that could not be scored or published even alone: dead-lettered with the reason.");
        _readAhead = _meter.CreateCounter<long>("popsteer.scorer.batches_read_ahead", "{batch}", "Batches taken from a backlog, and their sequence read started, while the batch before them was scored (Scoring:ReadAhead).");
        _scoredBeside = _meter.CreateCounter<long>("popsteer.scorer.batches_scored_beside", "{batch}", "Batches whose model call started while another batch was still being scored, each on one thread (Scoring:ConcurrentBatches).");
        _modelFallbacks = _meter.CreateCounter<long>("popsteer.scorer.model_fallbacks", "{version}", "Times an older verified version was loaded because `current` was refused and nothing was serving.");
        _batchDuration = _meter.CreateHistogram<double>("popsteer.scorer.batch.duration", "ms", "From batch assembled to offsets committed.");
        _latency = _meter.CreateHistogram<double>("popsteer.scorer.latency", "ms", "Event entering Kafka to its recommendation being delivered and committed.");
        _stage = _meter.CreateHistogram<double>("popsteer.scorer.stage.duration", "ms", "Time per batch stage (tag stage = collect, read, score, publish, commit, account).");
        _batchSize = _meter.CreateHistogram<int>("popsteer.scorer.batch.size", "{user}", "Distinct users per batch.");
        _meter.CreateObservableGauge("popsteer.scorer.served.tail_share", () => Served.TailShare, null, "Share of served slots that are tail items, over the sliding window.");
        _meter.CreateObservableGauge("popsteer.scorer.served.gini", () => Served.Gini, null, "Gini@K of served exposure over the sliding window.");
        _meter.CreateObservableGauge("popsteer.scorer.shadow.tail_share", () => Shadow.TailShare, null, "Tail share of the unsteered SASRec lists of a sample of the same users (Scoring:ShadowSampleEvery), over the sliding window.");
        _meter.CreateObservableGauge("popsteer.scorer.shadow.gini", () => Shadow.Gini, null, "Gini@K of the unsteered sample's exposure over the sliding window.");
        _meter.CreateObservableGauge("popsteer.scorer.alpha", () => Volatile.Read(ref _alpha), null, "Steering alpha of the last batch.");
        _meter.CreateObservableGauge("popsteer.scorer.alpha.applied", () => Volatile.Read(ref _appliedAlpha), null,
            "Steering alpha in force now (the last valid value read), whether or not a batch has used it yet.");
        _meter.CreateObservableGauge("popsteer.scorer.neurons", () => Volatile.Read(ref _neurons), null, "Steered neurons N of the last batch.");
        _meter.CreateObservableGauge("popsteer.scorer.model", () => new Measurement<int>(1, new KeyValuePair<string, object?>("version", _modelVersion)),
            null, "Always 1; the version tag names the model serving now.");
        if (models is not null)
            _meter.CreateObservableGauge("popsteer.scorer.model.loaded", () => models.WaitForFirstModelAsync(CancellationToken.None).IsCompletedSuccessfully ? 1 : 0,
                null, "1 once a verified model is loaded, 0 before (the Scorer is not ready and serves nothing).");
    }

    public ServedExposureWindow Served { get; }

    /// <summary>The unsteered counterfactual of a sample of the served users (<see cref="ShadowSample"/>).</summary>
    public ServedExposureWindow Shadow { get; }

    public string ModelVersion => _modelVersion;

    public void BatchDone(int signals, int users, int fallbacks, double durationMs, ActiveSteering steering, string modelVersion)
    {
        _batches.Add(1);
        _signals.Add(signals);
        _usersScored.Add(users);
        _fallbacks.Add(fallbacks);
        _batchSize.Record(users);
        _batchDuration.Record(durationMs);
        Volatile.Write(ref _alpha, steering.Alpha);
        Volatile.Write(ref _neurons, steering.Neurons);
        _modelVersion = modelVersion;
    }

    public void Stage(string stage, double ms) => _stage.Record(ms, new KeyValuePair<string, object?>("stage", stage));

    public void Latency(double ms) => _latency.Record(ms);

    public void BatchFailed() => _failedBatches.Add(1);

    public void SteeringRefused() => _steeringRefused.Add(1);

    public void SteeringApplied(double alpha) => Volatile.Write(ref _appliedAlpha, alpha);

    public double AppliedAlpha => Volatile.Read(ref _appliedAlpha);

    public void ModelRefused() => _modelsRefused.Add(1);

    public void BatchIsolated() => _isolatedBatches.Add(1);

    public void BatchReadAhead() => _readAhead.Add(1);
    public void BatchScoredBeside() => _scoredBeside.Add(1);

    public void UserDeadLettered() => _poisoned.Add(1);

    public void ModelFallback() => _modelFallbacks.Add(1);

    public void Dispose() => _meter.Dispose();
}
