using PopSteer.Core.Data;
using PopSteer.Core.Evaluation;
using PopSteer.Core.Metrics;
using PopSteer.Core.Scoring;
using PopSteer.Core.Storage;
using PopSteer.Core.Training;

namespace PopSteer.Core.Tests;

public sealed class FitterTests : IDisposable
{
    private readonly TempDirectory _tmp = new();

    public void Dispose() => _tmp.Dispose();

    private static FitOptions Tiny => new()
    {
        Dim = 16, Blocks = 1, Heads = 2, FeedForward = 32, MaxLength = 10, SaeWidthMultiplier = 4, SaeK = 4,
        SasRec = new SasRecTrainingOptions { MaxEpochs = 2, BatchSize = 256 },
        Sae = new SaeTrainingOptions { MaxEpochs = 2, BatchSize = 256 },
        AnalysisPrefixes = 500, GroupShare = 0.3, Seed = 3,
    };

    private static SequenceDataset Data() =>
        SequenceDataset.FromInteractions(SyntheticDataGenerator.Generate(new SyntheticDataOptions(80, 60, 1600, Seed: 3) { ZipfExponent = 0.7, ClusterSize = 10 }));

    [Fact]
    public void Fit_writes_a_loadable_directory_and_the_evaluator_agrees_with_the_model()
    {
        var data = Data();
        var dir = _tmp.File("model");
        var reports = new List<TrainingProgress>();
        var report = PopSteerFitter.Fit(data, dir, Tiny, new Collect(reports));
        Assert.False(report.Cancelled);
        Assert.Equal(["sasrec", "sae", "analyze"], reports.Select(r => r.Stage).Distinct());
        Assert.Contains("sasrec", report.StageTimes.Keys);
        Assert.Contains("analyze", report.StageTimes.Keys);

        using var model = PopSteerModel.Load(dir);
        Assert.Equal(report.Version, model.Version);
        Assert.Equal(data.Fingerprint, model.Manifest.DataFingerprint);
        Assert.Equal(64, model.SaeWidth);
        Assert.Equal("3", model.Manifest.Training["seed"]);
        Assert.True(model.Manifest.Metrics.ContainsKey("sae.valid.fvu"));
        Assert.Equal(0.3, model.Groups.Share);

        var split = LeaveOneOutSplit.Create(data, model.MaxLength);
        var plan = model.PlanFor(2.0, model.SaeWidth);
        var result = Evaluator.Evaluate(model, split.Test, ScoringMethod.PopSteer, plan, new EvaluationOptions { BatchSize = 7 });
        var direct = model.Recommend(split.Test.Select(c => c.History).ToArray(), ScoringMethod.PopSteer, plan, 10);
        Assert.Equal(direct.Select(l => l.Select(r => r.Item).ToArray()), result.Lists);
        var expected = RankingEvaluator.Evaluate(result.Lists, split.Test.Select(c => c.Target).ToArray(), model.Groups);
        Assert.Equal(expected, result.Metrics);
        Assert.Equal(split.Test.Count, result.Metrics.Users);

        // A prepared sweep gives the same numbers as one-off evaluations.
        using var prepared = Evaluator.Prepare(model, split.Test);
        Assert.Equal(result.Metrics, Evaluator.Evaluate(prepared, ScoringMethod.PopSteer, plan).Metrics);
        var masked = Evaluator.Evaluate(prepared, ScoringMethod.SasRec, null, new EvaluationOptions { MaskHistory = true });
        Assert.All(masked.Lists.Zip(split.Test), p => Assert.Empty(p.First.Intersect(p.Second.History)));
    }

    [Fact]
    public void Stages_run_apart_and_refuse_other_data()
    {
        var data = Data();
        var dir = _tmp.File("model");
        PopSteerFitter.Train(data, dir, Tiny);
        var afterTrain = ModelDirectory.Verify(dir);
        Assert.Equal([ModelDirectory.GroupsFile, ModelDirectory.SasRecFile], afterTrain.Files.Keys);
        Assert.Throws<ModelFormatException>(() => PopSteerModel.Load(dir));

        var other = SequenceDataset.FromInteractions(SyntheticDataGenerator.Generate(new SyntheticDataOptions(80, 60, 1600, Seed: 4)), new ItemVocabulary(afterTrain.Items));
        var ex = Assert.Throws<InvalidOperationException>(() => PopSteerFitter.TrainSae(other, dir, Tiny));
        Assert.Contains("other data", ex.Message);

        PopSteerFitter.TrainSae(data, dir, Tiny);
        var first = ModelDirectory.Verify(dir);
        Assert.Equal(3, first.Files.Count);
        // Continuing keeps training the saved SAE: its epochs add up and the validation FVU does not get worse.
        PopSteerFitter.TrainSae(data, dir, Tiny with { ResumeSae = true });
        var resumed = ModelDirectory.Verify(dir);
        Assert.Equal(first.Metrics["sae.epochs"] + 2, resumed.Metrics["sae.epochs"]);
        Assert.True(resumed.Metrics["sae.valid.fvu"] <= first.Metrics["sae.valid.fvu"] * 1.05);
        PopSteerFitter.Analyze(data, dir, Tiny);
        using var model = PopSteerModel.Load(dir);
        Assert.Equal(64, model.Neurons.Width);
    }

    private sealed class Collect(List<TrainingProgress> into) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => into.Add(value);
    }
}
