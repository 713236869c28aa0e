using System.Diagnostics;
using System.Globalization;
using PopSteer.Core.Data;
using PopSteer.Core.Metrics;
using PopSteer.Core.Reranking;
using PopSteer.Core.Scoring;
using PopSteer.Core.Statistics;
using static TorchSharp.torch;

namespace PopSteer.Core.Evaluation;

/// <summary>
/// PopSteer against the paper's baselines (METHOD.md sections 6 and 8, issue 3). Every method is tuned on the
/// validation split over its grid with the authors' selection rule (largest (Gini0 - Gini)/Gini0 - |dNDCG|/NDCG0 with a
/// relative NDCG drop of at most <see cref="MethodComparisonOptions.MaxNdcgDrop"/>, SASRec's validation metrics as
/// the reference), then the chosen setting is evaluated on the test split, timed end to end (SASRec forward,
/// scoring, re-ranking) per 1,000 users (median of <see cref="MethodComparisonOptions.TimedRuns"/> passes). Every number goes through <see cref="RankingEvaluator"/>.
/// <para>
/// Memory: SASRec's user vectors (users x d, small) are computed once per split and reused by every grid point;
/// score rows (batch x items) exist for one batch at a time.
/// </para>
/// </summary>
public static class MethodComparison
{
    public const string SasRec = "SASRec";
    public const string Sae = "SAE";
    public const string PopSteer = "PopSteer";
    public const string Ipr = "IPR";
    public const string Fair = "FA*IR";
    public const string Pct = "PCT";
    public const string Pmmf = "P-MMF";

    public static MethodComparisonResult Run(
        PopSteerModel model,
        IReadOnlyList<EvaluationCase> validation,
        IReadOnlyList<EvaluationCase> test,
        MethodComparisonOptions? options = null,
        Action<string>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(validation);
        ArgumentNullException.ThrowIfNull(test);
        options ??= new MethodComparisonOptions();
        options.Validate();
        if (validation.Count == 0) throw new ArgumentException("The validation split has no users: nothing to tune on.", nameof(validation));
        if (test.Count == 0) throw new ArgumentException("The test split has no users: nothing to report.", nameof(test));

        var settings = Settings(model, options);
        var grid = new List<GridPointResult>();
        var chosen = new List<(Setting Setting, GridPointResult Point)>();
        var validationLists = new Dictionary<GridPointResult, int[][]>(ReferenceEqualityComparer.Instance);
        var validationTargets = validation.Select(c => c.Target).ToArray();
        MetricSet? reference = null;

        using (var vectors = new SplitVectors(model, validation, options.BatchSize))
        {
            foreach (var method in settings.Select(s => s.Method).Distinct())
            {
                var candidates = settings.Where(s => s.Method == method).ToList();
                var points = new List<(Setting Setting, GridPointResult Point)>();
                for (int i = 0; i < candidates.Count; i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var setting = candidates[i];
                    var metrics = Evaluate(model, vectors, setting, options.K, cancellationToken, out _, out var lists);
                    reference ??= metrics; // SASRec comes first: the reference of every gain.
                    // SASRec and SAE have no setting to choose: the NDCG bound does not apply to them.
                    bool tuned = setting.Parameters.Count > 0;
                    var point = new GridPointResult(method, setting.Label, setting.Parameters, metrics,
                        SelectionScore.Gain(reference, metrics), SelectionScore.NdcgDrop(reference, metrics),
                        !tuned || SelectionScore.NdcgDrop(reference, metrics) <= options.MaxNdcgDrop + 1e-12);
                    points.Add((setting, point));
                    grid.Add(point);
                    validationLists[point] = lists;
                    progress?.Invoke(string.Create(CultureInfo.InvariantCulture,
                        $"[valid] {method} {i + 1}/{candidates.Count} {setting.Label}: ndcg@{options.K} {metrics.Ndcg:0.0000}, gini@{options.K} {metrics.Gini:0.0000}, tail cov {metrics.TailCoverage:0.0000}, gain {point.Gain:+0.0000;-0.0000;0.0000}{(point.Admissible ? "" : " (drop too large)")}"));
                }
                var best = SelectionScore.Pick(reference!, points.Select(p => (p.Point, p.Point.Validation)), options.MaxNdcgDrop);
                // No admissible point: show the least damaging one, flagged as such, rather than drop the method.
                chosen.Add(best is null ? points.OrderBy(p => p.Point.NdcgDrop).First() : points.First(p => ReferenceEquals(p.Point, best)));
                // Keep only the lists a later statistic needs (SASRec's and each chosen point's).
                foreach (var (_, point) in points)
                    if (point.Method != SasRec && !ReferenceEquals(point, chosen[^1].Point)) validationLists.Remove(point);
            }
        }

        var outcomes = new List<MethodOutcome>();
        var testLists = new Dictionary<string, MethodComparisonAnalysis.Lists>();
        var testTargets = test.Select(c => c.Target).ToArray();

        // The untuned references first, as every table lists them: what a trained model must beat.
        foreach (var r in options.References)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var validationMetrics = RankingEvaluator.Evaluate(r.Recommend(validation, options.K), validationTargets, model.Groups, options.K);
            var clock = Stopwatch.StartNew();
            var lists = r.Recommend(test, options.K);
            clock.Stop();
            var metrics = RankingEvaluator.Evaluate(lists, testTargets, model.Groups, options.K);
            var ndcg = MethodComparisonAnalysis.UserNdcg(lists, testTargets, options.K);
            testLists[r.Name] = new(lists, ndcg);
            outcomes.Add(new MethodOutcome(r.Name, null, validationMetrics, metrics, clock.Elapsed.TotalMilliseconds / test.Count * 1000.0,
                SelectionScore.Gain(reference!, validationMetrics), true) { IsReference = true, TestUserNdcg = ndcg });
            progress?.Invoke(string.Create(CultureInfo.InvariantCulture, $"[test] {r.Name} (reference): ndcg@{options.K} {metrics.Ndcg:0.0000}, gini@{options.K} {metrics.Gini:0.0000}"));
        }

        using (var vectors = new SplitVectors(model, test, options.BatchSize, deferred: true))
        {
            foreach (var (setting, point) in chosen)
            {
                cancellationToken.ThrowIfCancellationRequested();
                // One untimed pass over the first batch first, so no method pays for lazy initialisation; then
                // options.TimedRuns full passes, each from a fresh lister, and the median time:
                // the machine is shared, and one pass over a few hundred users is easily disturbed.
                using (NewDisposeScope())
                    setting.CreateLister(model)(vectors.UserVectors(0), vectors.Histories(0), options.K);
                var runs = Enumerable.Range(0, options.TimedRuns).Select(_ =>
                {
                    var m = Evaluate(model, vectors, setting, options.K, cancellationToken, out double ms, out var lists);
                    return (Metrics: m, Ms: ms, Lists: lists);
                }).ToList();
                var metrics = runs[0].Metrics;
                if (runs.Any(run => run.Metrics != metrics))
                    throw new InvalidOperationException($"{setting.Method} ({setting.Label}) gave different test metrics on repeated runs: the comparison must be deterministic.");
                double elapsedMs = runs.Select(run => run.Ms).Order().ElementAt(options.TimedRuns / 2);
                double msPer1000 = elapsedMs / test.Count * 1000.0;
                var ndcg = MethodComparisonAnalysis.UserNdcg(runs[0].Lists, testTargets, options.K);
                testLists[setting.Method] = new(runs[0].Lists, ndcg);
                outcomes.Add(new MethodOutcome(setting.Method, setting.Parameters.Count == 0 ? null : setting.Parameters,
                    point.Validation, metrics, msPer1000, point.Gain, point.Admissible) { TestUserNdcg = ndcg });
                progress?.Invoke(string.Create(CultureInfo.InvariantCulture,
                    $"[test] {setting.Method} {setting.Label}: ndcg@{options.K} {metrics.Ndcg:0.0000}, gini@{options.K} {metrics.Gini:0.0000}, {msPer1000:0.0} ms / 1,000 users"));
            }
        }

        // Significance: every method against SASRec and against PopSteer, on the same test users.
        progress?.Invoke($"[stats] paired tests and {options.BootstrapResamples} bootstrap resamples (seed {options.Seed}) ...");
        int items = model.Groups.ItemCount;
        var testBootstrap = new BootstrapInterval(test.Count, options.BootstrapResamples, options.Seed);
        var pairs = new List<PairedComparison>();
        foreach (var against in new[] { SasRec, PopSteer })
            foreach (var o in outcomes.Where(o => o.Method != against))
                pairs.Add(MethodComparisonAnalysis.Pair(o.Method, against, testLists[o.Method], testLists[against], testBootstrap, items, options.K));

        var sasRecValidation = grid.First(p => p.Method == SasRec).Validation;
        var fronts = new[] { PopSteer, Ipr, Fair, Pct, Pmmf }
            .Select(m => MethodComparisonAnalysis.Front(m, grid.Where(p => p.Method == m), sasRecValidation, options.MaxNdcgDrop)).ToList();

        // Is the selection rule's winner ahead by more than resampling the validation users moves the gains?
        var ranked = chosen.Where(c => c.Setting.Parameters.Count > 0).OrderByDescending(c => c.Point.Admissible).ThenByDescending(c => c.Point.Gain).ToList();
        ConfidenceInterval? lead = null;
        string? leader = null, runnerUp = null;
        if (ranked.Count > 1 && ranked[0].Point.Admissible)
        {
            MethodComparisonAnalysis.Lists Valid(GridPointResult p) => new(validationLists[p], MethodComparisonAnalysis.UserNdcg(validationLists[p], validationTargets, options.K));
            var validationBootstrap = new BootstrapInterval(validation.Count, options.BootstrapResamples, options.Seed);
            leader = ranked[0].Point.Method;
            runnerUp = ranked[1].Point.Method;
            lead = MethodComparisonAnalysis.GainDifference(Valid(ranked[0].Point), Valid(ranked[1].Point), Valid(grid.First(p => p.Method == SasRec)),
                validationBootstrap, items, options.K);
        }
        var verdict = MethodComparisonAnalysis.Verdict(outcomes, pairs, lead, leader, runnerUp, fronts);
        return new MethodComparisonResult(validation.Count, test.Count, outcomes, grid)
        {
            Pairs = pairs,
            Fronts = fronts,
            ValidationLead = lead,
            Verdict = verdict,
            BootstrapResamples = options.BootstrapResamples,
            Seed = options.Seed,
        };
    }

    /// <summary>Every setting in the order the report lists methods: SASRec, SAE, PopSteer, IPR, FA*IR, PCT, P-MMF.</summary>
    private static List<Setting> Settings(PopSteerModel model, MethodComparisonOptions o)
    {
        var groups = model.Groups;
        var settings = new List<Setting>
        {
            Setting.Model(SasRec, "base", Params(), ScoringMethod.SasRec, null),
            Setting.Model(Sae, "unsteered", Params(), ScoringMethod.Sae, null),
        };
        foreach (int n in o.NeuronGrid(model.SaeWidth))
            foreach (double a in o.PopSteerAlphas)
                settings.Add(Setting.Model(PopSteer, Label(("alpha", a), ("N", n)), Params(("alpha", a), ("neurons", n)), ScoringMethod.PopSteer, () => model.PlanFor(a, n)));
        foreach (double a in o.IprStrengths)
            settings.Add(Setting.Rerank(Ipr, Label(("a", a)), () => new IprReranker(groups, a)));
        foreach (double p in o.FairP)
            foreach (double alpha in o.FairAlpha)
                settings.Add(Setting.Rerank(Fair, Label(("p", p), ("alpha", alpha)), () => new FairReranker(groups, p, alpha, o.Candidates)));
        foreach (double p in o.PctP)
            foreach (double lambda in o.PctLambda)
                settings.Add(Setting.Rerank(Pct, Label(("p", p), ("lambda", lambda)), () => new PctReranker(groups, p, lambda)));
        foreach (double lambda in o.PmmfLambda)
            foreach (double eta in o.PmmfEta)
                settings.Add(Setting.Rerank(Pmmf, Label(("lambda", lambda), ("eta", eta)), () => new PmmfReranker(groups, lambda, eta)));
        return settings;
    }

    private static MetricSet Evaluate(PopSteerModel model, SplitVectors vectors, Setting setting, int k, CancellationToken ct, out double elapsedMs, out int[][] allLists)
    {
        var lister = setting.CreateLister(model);
        var lists = new List<int[]>(vectors.Cases.Count);
        var clock = new Stopwatch();
        for (int b = 0; b < vectors.Batches; b++)
        {
            ct.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var histories = vectors.Histories(b);
            clock.Start();
            var x = vectors.UserVectors(b);
            lists.AddRange(lister(x, histories, k));
            clock.Stop();
        }
        elapsedMs = clock.Elapsed.TotalMilliseconds;
        allLists = [.. lists];
        return RankingEvaluator.Evaluate(lists, vectors.Cases.Select(c => c.Target).ToArray(), model.Groups, k);
    }

    private static IReadOnlyDictionary<string, double> Params(params (string Name, double Value)[] values) =>
        values.ToDictionary(v => v.Name, v => v.Value);

    private static string Label(params (string Name, double Value)[] values) =>
        string.Join(", ", values.Select(v => string.Create(CultureInfo.InvariantCulture, $"{v.Name}={v.Value:R}")));

    /// <summary>Makes top-K lists for one batch of SASRec user vectors.</summary>
    private delegate int[][] Lister(Tensor userVectors, IReadOnlyList<int[]> histories, int k);

    private sealed record Setting(string Method, string Label, IReadOnlyDictionary<string, double> Parameters, Func<PopSteerModel, Lister> CreateLister)
    {
        public static Setting Model(string method, string label, IReadOnlyDictionary<string, double> parameters, ScoringMethod scoring, Func<Steering.SteeringPlan>? plan) =>
            new(method, label, parameters, model =>
            {
                var steering = plan?.Invoke();
                return (x, histories, k) =>
                {
                    using var scores = model.ScoresFromUserVectors(x, scoring, steering);
                    return PopSteerModel.TopK(scores, histories, k, excludeSeen: false).Select(l => l.Select(r => r.Item).ToArray()).ToArray();
                };
            });

        // A fresh re-ranker per evaluation run, so no state can leak from one grid point to the next.
        public static Setting Rerank(string method, string label, Func<IReranker> create)
        {
            var parameters = create().Parameters;
            return new(method, label, parameters, model =>
            {
                var reranker = create();
                return (x, histories, k) =>
                {
                    using var scores = model.ScoresFromUserVectors(x, ScoringMethod.SasRec);
                    return reranker.Rerank(ScoreBatch.FromTensor(scores), histories, k);
                };
            });
        }
    }

    /// <summary>
    /// A split cut into batches, with SASRec's user vectors either computed once and kept (validation: every grid
    /// point reuses them) or computed inside each timed call (test: the time then includes the SASRec forward).
    /// </summary>
    private sealed class SplitVectors : IDisposable
    {
        private readonly PopSteerModel _model;
        private readonly int _batchSize;
        private readonly List<Tensor>? _kept;

        public SplitVectors(PopSteerModel model, IReadOnlyList<EvaluationCase> cases, int batchSize, bool deferred = false)
        {
            _model = model;
            _batchSize = batchSize;
            Cases = cases;
            Batches = (cases.Count + batchSize - 1) / batchSize;
            if (deferred) return;
            _kept = [];
            for (int b = 0; b < Batches; b++)
            {
                var x = model.UserVectors(Histories(b));
                x.DetachFromDisposeScope();
                _kept.Add(x);
            }
        }

        public IReadOnlyList<EvaluationCase> Cases { get; }
        public int Batches { get; }

        public IReadOnlyList<int[]> Histories(int batch) =>
            Cases.Skip(batch * _batchSize).Take(_batchSize).Select(c => c.History).ToArray();

        public Tensor UserVectors(int batch) => _kept is not null ? _kept[batch] : _model.UserVectors(Histories(batch));

        public void Dispose()
        {
            if (_kept is null) return;
            foreach (var x in _kept) x.Dispose();
        }
    }
}
