using PopSteer.BenchShared;
using PopSteer.Core.Data;
using PopSteer.Core.Evaluation;
using PopSteer.Core.Metrics;
using PopSteer.Core.Scoring;
using PopSteer.Core.Storage;
using PopSteer.Core.Training;

namespace PopSteer.Bench;

/// <summary>Runs the whole offline pipeline and prints what the brief asks to measure.</summary>
internal static class FitBench
{
    public static int Run(Args a)
    {
        var path = a.Get("data") ?? throw new ArgumentException("--data PATH is required");
        var t = System.Diagnostics.Stopwatch.StartNew();
        var data = PopSteerFitter.LoadData(path, Enum.Parse<DataFormat>(a.Get("format", "Auto"), ignoreCase: true), a.Int("kcore", 0));
        Console.WriteLine($"data: {data.UserIds.Count} users, {data.Items.Count} items, {data.Interactions} interactions, read in {t.Elapsed.TotalSeconds:F1}s");
        return FitAndReport(data, a, $"data load {t.Elapsed.TotalSeconds:F1}s");
    }

    public static int RunSynthetic(Args a)
    {
        var t = System.Diagnostics.Stopwatch.StartNew();
        var o = new SyntheticDataOptions(a.Int("users", 6000), a.Int("items", 3400), a.Int("interactions", 1_000_000), a.Int("seed", 42));
        var rows = SyntheticDataGenerator.Generate(o);
        var data = SequenceDataset.FromInteractions(rows);
        Console.WriteLine($"synthetic: {data.UserIds.Count} users, {data.Items.Count} items, {data.Interactions} interactions, generated in {t.Elapsed.TotalSeconds:F1}s");
        var counts = new long[data.Items.Count + 1];
        foreach (var s in data.Sequences) foreach (var i in s) counts[i]++;
        Console.WriteLine($"data Gini over all interactions: {RankingEvaluator.Gini(counts):F4}");
        return FitAndReport(data, a, $"generate {t.Elapsed.TotalSeconds:F1}s");
    }

    private static int FitAndReport(SequenceDataset data, Args a, string prep)
    {
        var dir = a.Get("out", Path.Combine(Path.GetTempPath(), "popsteer-bench-model"));
        // `fit`'s own recipe unless a flag says otherwise (this bench once fixed the SAE at 100 epochs, patience 5: not
        // what `fit` runs since the recipe changed).
        var recipe = new FitOptions();
        var options = recipe with
        {
            Seed = a.Int("seed", recipe.Seed),
            SasRec = recipe.SasRec with
            {
                MaxEpochs = a.Int("epochs", recipe.SasRec.MaxEpochs), Patience = a.Int("patience", recipe.SasRec.Patience),
                MinEpochs = a.Int("min-epochs", recipe.SasRec.MinEpochs), WindowStride = a.Int("stride", recipe.SasRec.WindowStride),
                WarmupEpochs = a.Double("warmup", recipe.SasRec.WarmupEpochs), CosineDecay = a.Flag("cosine") || recipe.SasRec.CosineDecay,
                CooldownEpochs = a.Int("cooldown", recipe.SasRec.CooldownEpochs),
                LearningRate = a.Double("lr", recipe.SasRec.LearningRate),
            },
            Sae = recipe.Sae with { MaxEpochs = a.Int("sae-epochs", recipe.Sae.MaxEpochs), Patience = a.Int("sae-patience", recipe.Sae.Patience) },
            AnalysisPrefixes = a.Int("prefixes", recipe.AnalysisPrefixes),
            ResumeSae = a.Flag("continue-sae"),
        };
        // The machine's yardstick at this thread count, before and after: a fit's minutes only compare within a run.
        double peakBefore = SgemmPeak.Measure(seconds: 2);
        Console.WriteLine($"before: {SgemmPeak.Describe(peakBefore)}");
        var sink = new SyncProgress(Console.WriteLine);
        // --resume sae|analyze: keep what the directory already holds and run only the later stages.
        var report = a.Get("resume") switch
        {
            "sae" => Merge(PopSteerFitter.TrainSae(data, dir, options, sink), PopSteerFitter.Analyze(data, dir, options, sink)),
            "analyze" => PopSteerFitter.Analyze(data, dir, options, sink),
            _ => PopSteerFitter.Fit(data, dir, options, sink),
        };
        Console.WriteLine($"stage times: {prep}; " + string.Join("; ", report.StageTimes.Select(kv => $"{kv.Key} {kv.Value.TotalSeconds:F1}s")));
        Console.WriteLine($"after: {SgemmPeak.Describe(SgemmPeak.Measure(seconds: 2))}");

        using var model = PopSteerModel.Load(dir);
        var split = LeaveOneOutSplit.Create(data, model.MaxLength);
        Console.WriteLine($"model {model.Version}: valid NDCG@10 {model.Manifest.Metrics["sasrec.valid.ndcg@10"]:F4}, SAE valid FVU {model.Manifest.Metrics["sae.valid.fvu"]:F4}; " +
                          $"groups head {model.Groups.Size(PopularityGroup.Head)} mid {model.Groups.Size(PopularityGroup.Mid)} tail {model.Groups.Size(PopularityGroup.Tail)}");
        foreach (var (name, cases) in new[] { ("valid", split.Validation), ("test", split.Test) })
        {
            using var prepared = Evaluator.Prepare(model, cases);
            Print(name, "MostPop", MostPop(model, cases));
            var sas = Evaluator.Evaluate(prepared, ScoringMethod.SasRec).Metrics;
            Print(name, "SASRec", sas);
            var sae = Evaluator.Evaluate(prepared, ScoringMethod.Sae).Metrics;
            Print(name, "SAE", sae);
            Console.WriteLine($"  SAE NDCG relative to SASRec: {sae.Ndcg / sas.Ndcg - 1:+0.00%;-0.00%;0.00%}");
            foreach (var alpha in new[] { 0.5, 1.0, 1.5, 2.0, 3.0, 4.0 })
                Print(name, $"PopSteer a={alpha} N={model.SaeWidth}", Evaluator.Evaluate(prepared, ScoringMethod.PopSteer, model.PlanFor(alpha, model.SaeWidth)).Metrics);
        }
        return 0;
    }

    private static FitReport Merge(FitReport a, FitReport b) =>
        b with { StageTimes = a.StageTimes.Concat(b.StageTimes).ToDictionary(kv => kv.Key, kv => kv.Value), Sae = a.Sae };

    private static MetricSet MostPop(PopSteerModel model, IReadOnlyList<EvaluationCase> cases)
    {
        var top = Enumerable.Range(1, model.Items.Count).OrderByDescending(i => model.Groups.Counts[i]).ThenBy(i => i).Take(10).ToArray();
        return RankingEvaluator.Evaluate(cases.Select(_ => top).ToArray(), cases.Select(c => c.Target).ToArray(), model.Groups);
    }

    private static void Print(string split, string name, MetricSet m) =>
        Console.WriteLine($"  {split,-5} {name,-26} NDCG {m.Ndcg:F4} Hit {m.Hit:F4} MRR {m.Mrr:F4} Gini {m.Gini:F4} TailCov {m.TailCoverage:F4} LTCov {m.LongTailCoverage:F4} APLT {m.Aplt:F4} ARP {m.Arp:F1} NDCG h/m/t {m.NdcgHead:F4}/{m.NdcgMid:F4}/{m.NdcgTail:F4}");

    /// <summary>Progress printed on the reporting thread (Progress&lt;T&gt; would post to the thread pool and interleave).</summary>
    private sealed class SyncProgress(Action<string> write) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            if (value.Stage == "analyze" && value.Epoch != value.MaxEpochs) return;
            write(value.ToString());
        }
    }
}
