using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using PopSteer.Core.Data;
using PopSteer.Core.Storage;
using PopSteer.Core.Testing;
using PopSteer.Retrainer;
using PopSteer.Streaming.Sequences;
using PopSteer.Streaming.Tests.Scoring;

namespace PopSteer.Streaming.Tests.Retraining;

/// <summary>The refit itself, in-process (no Kafka, no Redis): SAE fine-tuning and the refusals that need no model run.</summary>
public sealed class ModelRefitterTests : IDisposable
{
    private readonly ScratchDirectory _scratch = new();

    public void Dispose() => _scratch.Dispose();

    private static (PopularitySnapshot Live, IReadOnlyList<UserSequence> Users) DriftedUsers(string modelDirectory, int users, int perUser)
    {
        var events = RetrainerTestSettings.DriftTowardsTail(modelDirectory, users, perUser, seed: 3);
        var counts = new DecayedCounts(TimeSpan.FromDays(7), events[0].Timestamp);
        foreach (var e in events) counts.Add(e.ItemId, e.Timestamp);
        var sequences = events.GroupBy(e => e.UserId)
            .Select(g => new UserSequence(g.Key, g.Select(e => new SequenceEntry(e.ItemId, e.Timestamp)).ToArray())).ToArray();
        return (new PopularitySnapshot(counts.CountsAt(), counts.Latest, events.Count, events.Count), sequences);
    }

    private static ModelRefitter Refitter(RetrainerOptions options) => new(Options.Create(options), NullLogger<ModelRefitter>.Instance);

    [Fact]
    public void With_RefitSae_the_sae_is_fine_tuned_on_the_recent_users_before_the_neuron_statistics_are_recomputed()
    {
        var baseDir = _scratch.Sub("base");
        var manifest = TinyModelFactory.Create(baseDir, items: 30, seed: 7);
        var (live, users) = DriftedUsers(baseDir, users: 40, perUser: 10);
        var drift = DriftDetector.Compare(manifest.Version, live.Counts, ModelDirectory.LoadItems(manifest), ModelDirectory.LoadGroups(baseDir, manifest));

        var refitter = Refitter(new RetrainerOptions
        {
            RefitSae = true, SaeEpochs = 3, SaeLearningRate = 1e-3, AnalysisPrefixes = 500, MinValidationUsers = 20,
            MaxFvu = 10, MaxNdcgDrop = 1, RequireGiniReduction = false, MaxNdcgDropVsServing = 1, MaxGiniRiseVsServing = 1,
        });
        var result = refitter.Refit(baseDir, _scratch.Sub("refit"), live, drift, users, new RefitSteering(1.0, null));

        Assert.True(result.Outcome == RefitOutcome.Published, string.Join("; ", result.Problems));
        var refitted = ModelDirectory.Verify(result.Directory!);
        Assert.NotEqual(manifest.Files[ModelDirectory.SaeFile], refitted.Files[ModelDirectory.SaeFile]);
        Assert.Equal(manifest.Files[ModelDirectory.SasRecFile], refitted.Files[ModelDirectory.SasRecFile]);
        Assert.Equal("True", refitted.Training["retrain.refit_sae"]);
        Assert.InRange(refitted.Metrics["retrain.sae.epochs"], 1, 3);
        Assert.True(refitted.Metrics["retrain.sae.valid.fvu"] > 0);
        Assert.Equal(40, result.Validation!.Users);
        Assert.Equal(1.0, result.Validation.Alpha);
        Assert.Equal(TinyModelFactory.SaeWidth, result.Validation.Neurons);
    }

    [Fact]
    public void Too_few_held_out_users_or_no_live_tail_fail_the_refit_with_the_reason_and_write_nothing()
    {
        var baseDir = _scratch.Sub("base");
        var manifest = TinyModelFactory.Create(baseDir, items: 30, seed: 7);
        var (live, users) = DriftedUsers(baseDir, users: 10, perUser: 10);
        var drift = DriftDetector.Compare(manifest.Version, live.Counts, ModelDirectory.LoadItems(manifest), ModelDirectory.LoadGroups(baseDir, manifest));

        var few = Refitter(new RetrainerOptions { MinValidationUsers = 20 }).Refit(baseDir, _scratch.Sub("few"), live, drift, users, new RefitSteering(1.0, null));
        Assert.Equal(RefitOutcome.Failed, few.Outcome);
        Assert.Contains("Retrainer:MinValidationUsers is 20", few.Problems.Single());
        Assert.False(Directory.Exists(_scratch.Sub("few")));

        // Every live interaction on one item: it alone is over the head share, so the live popularity has no head.
        var oneItem = new PopularitySnapshot(new Dictionary<string, double> { [ModelDirectory.LoadItems(manifest).ToExternal(1)] = 50 }, live.At, 50, 50);
        var noTail = Refitter(new RetrainerOptions { MinValidationUsers = 5 }).Refit(baseDir, _scratch.Sub("notail"), oneItem, drift, users, new RefitSteering(1.0, null));
        Assert.Equal(RefitOutcome.Failed, noTail.Outcome);
        Assert.Contains("gives 0 head", noTail.Problems.Single());
        Assert.False(Directory.Exists(_scratch.Sub("notail")));
    }
}
