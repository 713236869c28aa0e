using PopSteer.Core.Data;
using PopSteer.Core.Evaluation;
using PopSteer.Core.Metrics;
using PopSteer.Core.Reranking;
using PopSteer.Core.Scoring;
using PopSteer.Core.Testing;

namespace PopSteer.Core.Tests.Reranking;

/// <summary>One tiny real model directory (random weights) and its own synthetic data, shared by the class's tests.</summary>
public sealed class TinyComparisonFixture : IDisposable
{
    public const int Items = 40;
    private readonly TempDirectory _directory = new();

    public TinyComparisonFixture()
    {
        TinyModelFactory.Create(_directory.Path, Items, seed: 7);
        Model = PopSteerModel.Load(_directory.Path);
        var rows = SyntheticDataGenerator.Generate(new SyntheticDataOptions(Users: Items * 2, Items: Items, Interactions: Items * 20, Seed: 7)
        {
            ZipfExponent = 0.7,
            ClusterSize = 5,
        });
        Split = LeaveOneOutSplit.Create(SequenceDataset.FromInteractions(rows, Model.Items), Model.MaxLength);
    }

    public PopSteerModel Model { get; }
    public LeaveOneOutSplit Split { get; }

    public void Dispose()
    {
        Model.Dispose();
        _directory.Dispose();
    }
}

public sealed class MethodComparisonTests(TinyComparisonFixture fixture) : IClassFixture<TinyComparisonFixture>
{
    private readonly PopSteerModel _model = fixture.Model;
    private readonly LeaveOneOutSplit _split = fixture.Split;

    // Small grids: the mechanics, not the science. BatchSize 16 forces several batches per split.
    private static readonly MethodComparisonOptions Options = new()
    {
        BatchSize = 16,
        TimedRuns = 1,
        Candidates = 25,
        PopSteerAlphas = [1.0, 3.0],
        PopSteerNeurons = [32, 64],
        IprStrengths = [0.1, 1.0],
        FairP = [0.5, 0.9],
        FairAlpha = [0.1],
        PctP = [0.5],
        PctLambda = [0, 0.5],
        PmmfLambda = [0.1, 1],
        PmmfEta = [1e-3],
        BootstrapResamples = 200,
        References = [new FirstItems()],
    };

    /// <summary>A stand-in reference row: items 1..k for every user (the real MostPop and Last item live with `evaluate`).</summary>
    private sealed class FirstItems : IComparisonReference
    {
        public string Name => "First items";
        public int[][] Recommend(IReadOnlyList<EvaluationCase> cases, int k) => cases.Select(_ => Enumerable.Range(1, k).ToArray()).ToArray();
    }

    [Fact]
    public void TunesEveryMethodOnValidation_WithTheSelectionRule_AndReportsTest()
    {
        var lines = new List<string>();
        var result = MethodComparison.Run(_model, _split.Validation, _split.Test, Options, lines.Add);

        Assert.Equal(["First items", MethodComparison.SasRec, MethodComparison.Sae, MethodComparison.PopSteer, MethodComparison.Ipr,
                      MethodComparison.Fair, MethodComparison.Pct, MethodComparison.Pmmf], result.Methods.Select(m => m.Method));
        Assert.True(result.Methods[0].IsReference);
        Assert.Equal(1 + 1 + 4 + 2 + 2 + 2 + 2, result.Grid.Count);
        Assert.Equal(_split.Test.Count, result.TestUsers);
        Assert.Contains(lines, l => l.Contains("[valid] IPR 2/2", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("[test] P-MMF", StringComparison.Ordinal));

        var reference = result.Grid.Single(p => p.Method == MethodComparison.SasRec).Validation;
        foreach (var outcome in result.Methods.Skip(3))
        {
            var points = result.Grid.Where(p => p.Method == outcome.Method).ToList();
            var expected = SelectionScore.Pick(reference, points.Select(p => (p, p.Validation)), Options.MaxNdcgDrop);
            if (expected is null)
                Assert.False(outcome.Admissible);
            else
            {
                Assert.True(outcome.Admissible);
                Assert.Equal(expected.Parameters, outcome.Parameters);
                Assert.Equal(expected.Validation, outcome.Validation);
            }
            Assert.True(outcome.MsPer1000Users > 0);
        }
        Assert.Equal(result[MethodComparison.PopSteer].Parameters!["alpha"], result[MethodComparison.PopSteer].Alpha);
    }

    [Fact]
    public void TestMetrics_MatchAnIndependentPass_InOneBatch()
    {
        var result = MethodComparison.Run(_model, _split.Validation, _split.Test, Options);
        var histories = _split.Test.Select(c => c.History).ToArray();
        var targets = _split.Test.Select(c => c.Target).ToArray();

        var sasRec = _model.Recommend(histories, ScoringMethod.SasRec, null, 10).Select(l => l.Select(r => r.Item).ToArray()).ToArray();
        Assert.Equal(RankingEvaluator.Evaluate(sasRec, targets, _model.Groups), result[MethodComparison.SasRec].Test);

        // FA*IR is per-user, so scoring every test user in one batch must give the same lists as 16-user batches.
        var fair = result[MethodComparison.Fair].Parameters!;
        using var scores = _model.Scores(histories, ScoringMethod.SasRec);
        var lists = new FairReranker(_model.Groups, fair["p"], fair["alpha"], Options.Candidates).Rerank(ScoreBatch.FromTensor(scores), histories, 10);
        Assert.Equal(RankingEvaluator.Evaluate(lists, targets, _model.Groups), result[MethodComparison.Fair].Test);
        Assert.Equal(RankingEvaluator.Evaluate(Enumerable.Range(0, targets.Length).Select(_ => Enumerable.Range(1, 10).ToArray()).ToArray(), targets, _model.Groups),
            result["First items"].Test);
    }

    [Fact]
    public void EveryMethodIsTestedAgainstSasRecAndPopSteer_OnItsOwnPerUserNdcg()
    {
        var result = MethodComparison.Run(_model, _split.Validation, _split.Test, Options);
        // 8 rows: 7 against SASRec (all but itself), 7 against PopSteer.
        Assert.Equal(14, result.Pairs.Count);
        var targets = _split.Test.Select(c => c.Target).ToArray();
        foreach (var outcome in result.Methods)
        {
            Assert.Equal(_split.Test.Count, outcome.TestUserNdcg.Count);
            Assert.Equal(outcome.Test.Ndcg, outcome.TestUserNdcg.Average(), 12);
        }
        var pct = result.Pair(MethodComparison.Pct, MethodComparison.SasRec)!;
        Assert.Equal(result[MethodComparison.Pct].Test.Ndcg - result[MethodComparison.SasRec].Test.Ndcg, pct.NdcgDifference.Estimate, 12);
        Assert.Equal(result[MethodComparison.Pct].Test.Gini - result[MethodComparison.SasRec].Test.Gini, pct.GiniDifference.Estimate, 12);
        Assert.InRange(pct.NdcgDifference.Estimate, pct.NdcgDifference.Low, pct.NdcgDifference.High);
        Assert.Null(result.Pair(MethodComparison.SasRec, MethodComparison.SasRec));
        Assert.Null(result.Pair(MethodComparison.PopSteer, MethodComparison.PopSteer));

        // Fronts: one per tuned method, each point from that method's grid and none dominated by another.
        Assert.Equal([MethodComparison.PopSteer, MethodComparison.Ipr, MethodComparison.Fair, MethodComparison.Pct, MethodComparison.Pmmf], result.Fronts.Select(f => f.Method));
        foreach (var front in result.Fronts)
        {
            var grid = result.Grid.Where(p => p.Method == front.Method).ToList();
            Assert.All(front.Points, p => Assert.Contains(grid, g => g.Validation.Gini == p.Gini && g.Validation.Ndcg == p.Ndcg));
            Assert.DoesNotContain(grid, g => front.Points.Any(p => g.Validation.Gini <= p.Gini && g.Validation.Ndcg >= p.Ndcg && (g.Validation.Gini < p.Gini || g.Validation.Ndcg > p.Ndcg)));
            Assert.True(front.Area >= 0);
        }
        Assert.Contains(result.Verdict, l => l.StartsWith("PopSteer vs SASRec on test", StringComparison.Ordinal));
        Assert.Contains(result.Verdict, l => l.StartsWith("PopSteer vs P-MMF on test", StringComparison.Ordinal));
        Assert.Equal(targets.Length, result.TestUsers);
    }

    [Fact]
    public void RepeatedRuns_GiveTheSameGridTestAndIntervals()
    {
        var first = MethodComparison.Run(_model, _split.Validation, _split.Test, Options);
        var second = MethodComparison.Run(_model, _split.Validation, _split.Test, Options);
        Assert.Equal(first.Grid.Where(p => p.Method == MethodComparison.Pmmf).Select(p => p.Validation),
                     second.Grid.Where(p => p.Method == MethodComparison.Pmmf).Select(p => p.Validation));
        Assert.Equal(first[MethodComparison.Pmmf].Test, second[MethodComparison.Pmmf].Test);
        Assert.Equal(first.Pairs, second.Pairs);
    }

    [Fact]
    public void BadOptions_AreRefusedBeforeAnyWork()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MethodComparison.Run(_model, _split.Validation, _split.Test, Options with { MaxNdcgDrop = -0.1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => MethodComparison.Run(_model, _split.Validation, _split.Test, Options with { Candidates = 5 }));
        Assert.Throws<ArgumentException>(() => MethodComparison.Run(_model, _split.Validation, _split.Test, Options with { FairP = [] }));
        Assert.Throws<ArgumentException>(() => MethodComparison.Run(_model, [], _split.Test, Options));
        Assert.Throws<ArgumentOutOfRangeException>(() => MethodComparison.Run(_model, _split.Validation, _split.Test, Options with { BootstrapResamples = 1 }));
        Assert.Throws<ArgumentException>(() => MethodComparison.Run(_model, _split.Validation, _split.Test, Options with { References = [new FirstItems(), new FirstItems()] }));
    }
}
