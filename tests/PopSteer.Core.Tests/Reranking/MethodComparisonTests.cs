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
    };

    [Fact]
    public void TunesEveryMethodOnValidation_WithTheSelectionRule_AndReportsTest()
    {
        var lines = new List<string>();
        var result = MethodComparison.Run(_model, _split.Validation, _split.Test, Options, lines.Add);

        Assert.Equal([MethodComparison.SasRec, MethodComparison.Sae, MethodComparison.PopSteer, MethodComparison.Ipr,
                      MethodComparison.Fair, MethodComparison.Pct, MethodComparison.Pmmf], result.Methods.Select(m => m.Method));
        Assert.Equal(1 + 1 + 4 + 2 + 2 + 2 + 2, result.Grid.Count);
        Assert.Equal(_split.Test.Count, result.TestUsers);
        Assert.Contains(lines, l => l.Contains("[valid] IPR 2/2", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("[test] P-MMF", StringComparison.Ordinal));

        var reference = result.Grid.Single(p => p.Method == MethodComparison.SasRec).Validation;
        foreach (var outcome in result.Methods.Skip(2))
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
    }

    [Fact]
    public void PmmfRepeatsExactly_ForTheSameSeed()
    {
        var first = MethodComparison.Run(_model, _split.Validation, _split.Test, Options);
        var second = MethodComparison.Run(_model, _split.Validation, _split.Test, Options);
        Assert.Equal(first.Grid.Where(p => p.Method == MethodComparison.Pmmf).Select(p => p.Validation),
                     second.Grid.Where(p => p.Method == MethodComparison.Pmmf).Select(p => p.Validation));
        Assert.Equal(first[MethodComparison.Pmmf].Test, second[MethodComparison.Pmmf].Test);
    }

    [Fact]
    public void BadOptions_AreRefusedBeforeAnyWork()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MethodComparison.Run(_model, _split.Validation, _split.Test, Options with { MaxNdcgDrop = -0.1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => MethodComparison.Run(_model, _split.Validation, _split.Test, Options with { Candidates = 5 }));
        Assert.Throws<ArgumentException>(() => MethodComparison.Run(_model, _split.Validation, _split.Test, Options with { FairP = [] }));
        Assert.Throws<ArgumentException>(() => MethodComparison.Run(_model, [], _split.Test, Options));
    }
}
