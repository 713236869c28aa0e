using PopSteer.Core.Data;
using PopSteer.Core.Training;
using PopSteer.Streaming.Contracts;

namespace PopSteer.Streaming.Tests.Retraining;

/// <summary>
/// A small world with a real (briefly trained) model and a stream that drifts at a known point: seeded synthetic
/// users with strong sequential structure, each user's earlier 60% fits a tiny SASRec + SAE + analysis (seconds), the
/// later 40% is the live stream, drifted by <see cref="DriftScenario"/> from its first third on (faded heads handed
/// to new items, risen tail items).
/// </summary>
internal sealed class DriftWorld
{
    public required string ModelDirectory { get; init; }
    public required IReadOnlyList<Interaction> Training { get; init; }
    public required List<InteractionEvent> Stream { get; init; }
    public required DriftPlan Plan { get; init; }

    public static DriftWorld Create(string directory, int seed = 11)
    {
        var rows = SyntheticDataGenerator.Generate(new SyntheticDataOptions(Users: 120, Items: 40, Interactions: 2400, Seed: seed)
        {
            ClusterSize = 5, FollowChain = 0.7, StayInTaste = 0.2, ZipfExponent = 0.8,
        });
        var training = new List<Interaction>();
        var live = new List<(Interaction Row, double Progress)>();
        foreach (var user in rows.GroupBy(r => r.UserId, StringComparer.Ordinal))
        {
            var ordered = user.OrderBy(r => r.Timestamp).ToArray();
            int cut = Math.Max(3, (int)(ordered.Length * 0.6));
            training.AddRange(ordered[..cut]);
            live.AddRange(ordered[cut..].Select((r, k) => (r, (k + 0.5) / (ordered.Length - cut))));
        }
        var stream = live.OrderBy(x => x.Progress).Select(x => x.Row).ToArray();
        var (drifted, plan) = DriftScenario.Apply(training, stream, stream.Length / 3, new DriftScenarioOptions { FadingHeadShare = 0.5, RisingItems = 4, RisingShare = 0.1, Seed = seed });

        var data = SequenceDataset.FromInteractions(training);
        var fit = new FitOptions
        {
            Seed = seed, MaxLength = 10, Dim = 16, Blocks = 1, Heads = 2, FeedForward = 32, Dropout = 0.2,
            SasRec = new SasRecTrainingOptions { MaxEpochs = 15, Patience = 15, BatchSize = 256 },
            SaeWidthMultiplier = 4, SaeK = 8, Sae = new SaeTrainingOptions { MaxEpochs = 5 },
            AnalysisPrefixes = 500,
        };
        PopSteerFitter.Fit(data, directory, fit);

        var start = new DateTimeOffset(2025, 6, 1, 0, 0, 0, TimeSpan.Zero);
        var events = drifted.Select((r, i) => new InteractionEvent
        {
            EventId = $"drift-{i}", UserId = r.UserId, ItemId = r.ItemId, Timestamp = start.AddSeconds(i),
        }).ToList();
        return new DriftWorld { ModelDirectory = directory, Training = training, Stream = events, Plan = plan };
    }
}
