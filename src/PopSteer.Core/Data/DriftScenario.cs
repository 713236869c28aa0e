namespace PopSteer.Core.Data;

/// <summary>How popularity shifts at the drift point (see <see cref="DriftScenario"/>).</summary>
public sealed record DriftScenarioOptions
{
    /// <summary>Share of the head items (training popularity, METHOD.md's 20% rule) that fade at the drift.</summary>
    public double FadingHeadShare { get; init; } = 0.5;
    /// <summary>Tail items that rise at the drift.</summary>
    public int RisingItems { get; init; } = 20;
    /// <summary>Chance that an event after the drift is moved onto a rising item.</summary>
    public double RisingShare { get; init; } = 0.1;
    /// <summary>Head/tail share used to find the head and tail of the training data.</summary>
    public double GroupShare { get; init; } = 0.2;
    public int Seed { get; init; } = 42;

    public void Validate()
    {
        if (FadingHeadShare is < 0 or > 1 || double.IsNaN(FadingHeadShare)) throw new ArgumentOutOfRangeException(nameof(FadingHeadShare), FadingHeadShare, "must lie in [0, 1]");
        if (RisingItems < 0) throw new ArgumentOutOfRangeException(nameof(RisingItems), RisingItems, "must be >= 0");
        if (RisingShare is < 0 or > 1 || double.IsNaN(RisingShare)) throw new ArgumentOutOfRangeException(nameof(RisingShare), RisingShare, "must lie in [0, 1]");
    }
}

/// <summary>What changed at the drift: external ids of the faded head items, the new items that took their place (same order), and the risen tail items.</summary>
public sealed record DriftPlan(int DriftAt, IReadOnlyList<string> Fading, IReadOnlyList<string> NewItems, IReadOnlyList<string> Rising);

/// <summary>
/// A stream whose popularity shifts at a known point, for the demo, the Retrainer's tests and the drift bench. From
/// the drift on: a share of the training head fades, each faded item handing its place in users' sequences to a
/// brand-new item (not in the training data: a new edition of a popular product), so the new items become popular
/// with the sequential structure the old ones had; and a set of tail items rises, taking a share of all events.
/// Before the drift the stream is unchanged. Seeded: the same inputs give the same stream.
/// </summary>
public static class DriftScenario
{
    public const string NewItemPrefix = "new";

    /// <param name="training">The rows the serving model was fitted on: they define head and tail.</param>
    /// <param name="stream">The live stream in replay order.</param>
    /// <param name="driftAt">Index in <paramref name="stream"/> of the first drifted event.</param>
    public static (IReadOnlyList<Interaction> Stream, DriftPlan Plan) Apply(IReadOnlyList<Interaction> training, IReadOnlyList<Interaction> stream, int driftAt, DriftScenarioOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (driftAt < 0 || driftAt > stream.Count) throw new ArgumentOutOfRangeException(nameof(driftAt), driftAt, $"must lie in 0..{stream.Count}");
        var counts = training.GroupBy(r => r.ItemId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => (long)g.Count(), StringComparer.Ordinal);
        var items = counts.Keys.Order(StringComparer.Ordinal).ToArray();
        var vocabulary = new ItemVocabulary(items);
        var byId = new long[items.Length + 1];
        for (int i = 0; i < items.Length; i++) byId[i + 1] = counts[items[i]];
        var groups = PopularityGroups.FromCounts(byId, options.GroupShare);

        var rng = new Random(options.Seed);
        var head = groups.Items(PopularityGroup.Head).Select(vocabulary.ToExternal).ToArray();
        var tail = groups.Items(PopularityGroup.Tail).Select(vocabulary.ToExternal).ToArray();
        rng.Shuffle(head);
        rng.Shuffle(tail);
        var fading = head.Take((int)Math.Round(head.Length * options.FadingHeadShare)).ToArray();
        var newItems = fading.Select((_, k) => $"{NewItemPrefix}{k + 1}").ToArray();
        var rising = tail.Take(Math.Min(options.RisingItems, tail.Length)).ToArray();
        var replacement = fading.Zip(newItems).ToDictionary(p => p.First, p => p.Second, StringComparer.Ordinal);

        var drifted = new Interaction[stream.Count];
        for (int i = 0; i < stream.Count; i++)
        {
            var row = stream[i];
            if (i >= driftAt)
            {
                if (replacement.TryGetValue(row.ItemId, out var fresh)) row = row with { ItemId = fresh };
                else if (rising.Length > 0 && rng.NextDouble() < options.RisingShare) row = row with { ItemId = rising[rng.Next(rising.Length)] };
            }
            drifted[i] = row;
        }
        return (drifted, new DriftPlan(driftAt, fading, newItems, rising));
    }
}
