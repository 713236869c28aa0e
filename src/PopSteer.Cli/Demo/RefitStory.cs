using System.Diagnostics;
using System.Globalization;
using PopSteer.Core.Scoring;
using PopSteer.Retrainer;
using PopSteer.Scorer;

namespace PopSteer.Cli.Demo;

/// <summary>
/// The Retrainer's side of the demo, as events arrive from the real workers: each refit's start (and the drift that
/// started it), its validation and outcome, and the moment the Scorer swapped to it. Loads each published refit for
/// the shadows and, once one serves, makes the version before it the stale shadow. Names the phase a served list
/// belongs to by the version that made it.
/// </summary>
internal sealed class RefitStory : IDisposable
{
    private readonly RetrainerWorker _worker;
    private readonly ModelHolder _holder;
    private readonly string _baseVersion;
    private readonly Action<string> _say;
    private readonly bool _interactive;
    private readonly Lock _gate = new();
    private readonly List<string> _lines = [];
    private readonly Dictionary<string, string> _phaseByVersion = new(StringComparer.Ordinal);
    private readonly List<PopSteerModel> _loaded = [];
    private ShadowScorer? _shadow;
    private PopSteerModel? _base;
    private Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan? _started;
    private int _refits;
    private volatile string _status = "";
    private volatile string _serving;

    public RefitStory(RetrainerWorker worker, ModelHolder holder, string baseVersion, Action<string> say, bool interactive)
    {
        _worker = worker;
        _holder = holder;
        _baseVersion = baseVersion;
        _serving = baseVersion;
        _say = say;
        _interactive = interactive;
        worker.RefitStarted += OnStarted;
        worker.RefitCompleted += OnCompleted;
        holder.Swapped += OnSwapped;
    }

    public DriftReport? LastDrift => _worker.LastDrift;
    public string Status => _status;
    public string Serving => _serving;
    public bool Refitting { get { lock (_gate) return _started is not null; } }
    public bool Published { get { lock (_gate) return _phaseByVersion.Count > 0; } }

    public void Attach(ShadowScorer shadow, PopSteerModel baseModel)
    {
        _shadow = shadow;
        _base = baseModel;
    }

    public void Start(Stopwatch clock) => _clock = clock;

    /// <summary>The summary's phase of a list made by <paramref name="version"/> for an event before or after the drift.</summary>
    public string PhaseOf(string version, bool drifted, bool driftPlanned)
    {
        if (version != _baseVersion)
            lock (_gate) return _phaseByVersion.GetValueOrDefault(version, "after refit");
        if (!driftPlanned) return "live";
        return drifted ? "after drift, stale model" : "before drift";
    }

    public IReadOnlyList<string> Lines()
    {
        lock (_gate) return _lines.ToArray();
    }

    private string At => string.Create(CultureInfo.InvariantCulture, $"t={_clock.Elapsed.TotalSeconds:0}s");

    private void Log(string line)
    {
        lock (_gate) _lines.Add(line);
        if (!_interactive) _say("  " + line);
    }

    private void OnStarted(DriftReport drift)
    {
        lock (_gate) _started = _clock.Elapsed;
        _status = $"refitting since {At}";
        Log(string.Create(CultureInfo.InvariantCulture,
            $"{At} refit started: drift JS {drift.JsDivergence:0.000} bits (sampling noise {drift.SamplingNoiseJs:0.000}), head overlap {drift.HeadOverlap:0.00}, unknown-item share {drift.UnknownShare:0.000} after {drift.Events:N0} events"));
    }

    private void OnCompleted(RefitResult result)
    {
        TimeSpan took;
        lock (_gate)
        {
            took = _clock.Elapsed - (_started ?? _clock.Elapsed);
            _started = null;
        }
        var v = result.Validation;
        string numbers = v is null ? "" : string.Create(CultureInfo.InvariantCulture,
            $"; validation on {v.Users:N0} held-out users at alpha {v.Alpha:0.##}: NDCG@10 SASRec {v.SasRec.Ndcg:0.0000}, PopSteer {v.PopSteer.Ndcg:0.0000}, serving version {v.Serving.Ndcg:0.0000}; Gini@10 PopSteer {v.PopSteer.Gini:0.000}, serving {v.Serving.Gini:0.000}; SAE FVU {v.Fvu:0.000}");
        string items = "";
        if (result.Directory is { } dir && Directory.Exists(dir))
        {
            try
            {
                var manifest = PopSteer.Core.Storage.ModelDirectory.ReadManifest(dir);
                items = string.Create(CultureInfo.InvariantCulture,
                    $"; {manifest.Metrics.GetValueOrDefault("retrain.new_items"):0} new items, SASRec {(manifest.Training.GetValueOrDefault("retrain.sasrec_fine_tuned") == "True" ? $"fine-tuned {manifest.Metrics.GetValueOrDefault("retrain.sasrec.epochs"):0} epochs" : "kept")}, SAE {(manifest.Training.GetValueOrDefault("retrain.refit_sae") == "True" ? "fine-tuned" : "kept")}");
            }
            catch (PopSteer.Core.Storage.ModelFormatException)
            {
            }
        }
        Log(string.Create(CultureInfo.InvariantCulture, $"{At} refit {result.Outcome.ToString().ToLowerInvariant()} after {took.TotalSeconds:0} s{items}{numbers}") +
            (result.Outcome == RefitOutcome.Published ? $" -> version {result.PublishedVersion}" : $": {string.Join("; ", result.Problems)}"));
        _status = $"last refit {result.Outcome.ToString().ToLowerInvariant()} at {At}";
        if (result is { Outcome: RefitOutcome.Published, PublishedVersion: { } version, Directory: { } directory })
        {
            lock (_gate)
            {
                _refits++;
                _phaseByVersion[version] = _refits == 1 ? "after refit" : $"after refit {_refits}";
            }
            var model = PopSteerModel.Load(directory);
            lock (_gate) _loaded.Add(model);
            _shadow?.AddModel(model);
        }
    }

    private void OnSwapped(string? old, string now)
    {
        _serving = now;
        if (old is null) return;
        Log($"{At} Scorer swapped {old} -> {now} between batches");
        // Lists of the refit are compared with the version that served before the first refit.
        if (_base is not null) _shadow?.SetStale(_base);
    }

    public void Dispose()
    {
        _worker.RefitStarted -= OnStarted;
        _worker.RefitCompleted -= OnCompleted;
        _holder.Swapped -= OnSwapped;
        lock (_gate)
        {
            foreach (var m in _loaded) m.Dispose();
            _loaded.Clear();
        }
    }
}
