using PopSteer.Core.Data;
using PopSteer.Retrainer;

namespace PopSteer.Streaming.Tests.Retraining;

/// <summary>The drift measures on hand-made distributions. JS is in bits: identical = 0, disjoint = 1 (not ln 2).</summary>
public sealed class DriftDetectorTests
{
    [Fact]
    public void Identical_distributions_diverge_by_zero_and_disjoint_ones_by_exactly_one_bit()
    {
        Assert.Equal(0, DriftDetector.JensenShannon([1, 2, 3, 4], [10, 20, 30, 40]), 12);
        Assert.Equal(1, DriftDetector.JensenShannon([1, 1, 0, 0], [0, 0, 5, 2]), 12);
    }

    [Fact]
    public void A_hand_computed_divergence_matches()
    {
        // P = (1, 0), Q = (1/2, 1/2), M = (3/4, 1/4): KL(P||M) = log2(4/3), KL(Q||M) = (log2(2/3) + log2(2)) / 2.
        double expected = (Math.Log2(4.0 / 3) + (Math.Log2(2.0 / 3) + 1) / 2) / 2;
        Assert.Equal(expected, DriftDetector.JensenShannon([1, 0], [3, 3]), 12);
        Assert.Equal(0.3112781244591328, expected, 12);
        // Symmetric.
        Assert.Equal(expected, DriftDetector.JensenShannon([3, 3], [1, 0]), 12);
    }

    [Fact]
    public void Bad_distributions_are_refused_with_a_reason()
    {
        Assert.Contains("no mass", Assert.Throws<ArgumentException>(() => DriftDetector.JensenShannon([0, 0], [1, 1])).Message);
        Assert.Contains("negative", Assert.Throws<ArgumentException>(() => DriftDetector.JensenShannon([1, -1], [1, 1])).Message);
        Assert.Contains("2 and 3", Assert.Throws<ArgumentException>(() => DriftDetector.JensenShannon([1, 1], [1, 1, 1])).Message);
    }

    [Fact]
    public void Live_popularity_is_compared_by_external_id_ignoring_items_the_model_does_not_know()
    {
        // Ten items; at share 0.2 the model's head is item a alone (50 of 280; a and b would be 90).
        var items = new ItemVocabulary(["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]);
        long[] counts = [0, 50, 40, 30, 30, 30, 30, 30, 30, 5, 5];
        var groups = PopularityGroups.FromCounts(counts, 0.2);
        Assert.Equal(["a"], groups.Items(PopularityGroup.Head).Select(items.ToExternal));

        // The same shape live (scaled, decayed counts are fractional), plus an item the model never saw.
        var same = items.ExternalIds.Select((id, i) => (id, c: counts[i + 1] * 0.37)).ToDictionary(x => x.id, x => x.c);
        same["brand-new"] = 10;
        var unchanged = DriftDetector.Compare("v1", same, items, groups);
        Assert.Equal(0, unchanged.JsDivergence, 9);
        Assert.Equal(1, unchanged.HeadOverlap);
        Assert.Equal(10 / (10 + same.Where(kv => kv.Key != "brand-new").Sum(kv => kv.Value)), unchanged.UnknownShare, 12);
        Assert.False(unchanged.Exceeds(0.05, 0.5));

        // The tail became the head (i alone: 50 of 275): a and b are no longer popular at all.
        var drifted = new Dictionary<string, double> { ["i"] = 50, ["j"] = 45, ["c"] = 30, ["d"] = 30, ["e"] = 30, ["f"] = 30, ["g"] = 30, ["h"] = 30 };
        var report = DriftDetector.Compare("v1", drifted, items, groups);
        Assert.Equal(0, report.HeadOverlap);
        Assert.Equal(1, report.ModelHeadItems);
        Assert.Equal(1, report.LiveHeadItems);
        Assert.True(report.JsDivergence > 0.2, $"JS {report.JsDivergence}");
        Assert.Equal(DriftDetector.JensenShannon(counts.Select(c => (double)c).ToArray(), [0, 0, 0, 30, 30, 30, 30, 30, 30, 50, 45]), report.JsDivergence, 12);
        Assert.True(report.Exceeds(0.2, 0));
        Assert.True(report.Exceeds(0.99, 0.5)); // by the head overlap alone
        Assert.False(report.Exceeds(0.99, 0));  // overlap floor off

        var nothingKnown = DriftDetector.Compare("v1", new Dictionary<string, double> { ["zzz"] = 3 }, items, groups);
        Assert.True(double.IsNaN(nothingKnown.JsDivergence));
        Assert.False(nothingKnown.Exceeds(0, 1));
    }

    [Fact]
    public void Decayed_counts_halve_every_half_life_and_survive_a_landmark_move()
    {
        var t0 = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var counts = new DecayedCounts(TimeSpan.FromHours(1), t0);
        for (int i = 0; i < 4; i++) counts.Add("a", t0);
        counts.Add("b", t0.AddHours(1));
        counts.Add("b", t0.AddHours(1));
        counts.Add("c", t0.AddHours(2));
        var now = counts.CountsAt();
        Assert.Equal(1.0, now["a"], 12); // 4 / 2^2
        Assert.Equal(1.0, now["b"], 12); // 2 / 2
        Assert.Equal(1.0, now["c"], 12);
        Assert.Equal(0.5, counts.CountsAt(t0.AddHours(3))["c"], 12);

        // 1 s half-life: an event 60 s later is past e^40, so the landmark moves and every weight is rescaled.
        var fast = new DecayedCounts(TimeSpan.FromSeconds(1), t0);
        fast.Add("a", t0);
        fast.Add("a", t0.AddSeconds(50));
        fast.Add("b", t0.AddSeconds(60));
        Assert.Equal(t0.AddSeconds(60), fast.Landmark);
        var later = fast.CountsAt();
        Assert.Equal(Math.Pow(2, -10) + Math.Pow(2, -60), later["a"], 15);
        Assert.Equal(1.0, later["b"], 12);
    }

    [Fact]
    public void A_small_live_sample_of_unchanged_popularity_is_sampling_noise_not_drift()
    {
        // 1,000 items, Zipf-like popularity; 800 live events drawn from that very popularity measure a raw JS above
        // 0.1 bits (the demo's threshold) although nothing moved. Above its sampling noise it is about 0.
        const int n = 1000;
        var items = new ItemVocabulary(Enumerable.Range(0, n).Select(i => $"i{i}").ToArray());
        var counts = new long[n + 1];
        for (int i = 1; i <= n; i++) counts[i] = (long)Math.Round(1e6 / (i + 20.0));
        var groups = PopularityGroups.FromCounts(counts, 0.2);
        var rng = new Random(3);
        double total = counts.Sum();
        Dictionary<string, double> Sample(int events, Func<int, int> moved)
        {
            var live = new Dictionary<string, double>();
            for (int e = 0; e < events; e++)
            {
                double u = rng.NextDouble() * total;
                int id = 1;
                for (double c = counts[1]; c < u; c += counts[++id]) { }
                var external = items.ToExternal(moved(id));
                live[external] = live.GetValueOrDefault(external) + 1;
            }
            return live;
        }

        var unchanged = DriftDetector.Compare("v1", Sample(800, id => id), items, groups);
        Assert.True(unchanged.JsDivergence >= 0.1, $"raw JS {unchanged.JsDivergence}");
        Assert.InRange(unchanged.ExcessJs, 0, 0.03);
        Assert.False(unchanged.Exceeds(0.1, 0));

        // The same number of events after a real move (the popularity ranking reversed) is drift.
        var reversed = DriftDetector.Compare("v1", Sample(800, id => n + 1 - id), items, groups);
        Assert.True(reversed.Exceeds(0.1, 0), $"JS {reversed.JsDivergence}, noise {reversed.SamplingNoiseJs}");

        // More events, less noise; past the simulated draws the expected plug-in divergence falls as 1/n.
        var model = counts.Select(c => (double)c).ToArray();
        double at800 = DriftDetector.SamplingNoise(model, 800), at8000 = DriftDetector.SamplingNoise(model, 8000);
        Assert.True(at8000 < at800 / 3, $"{at800} at 800 events, {at8000} at 8,000");
        double half = DriftDetector.SamplingNoise(model, DriftDetector.MaxSimulatedDraws / 2), cap = DriftDetector.SamplingNoise(model, DriftDetector.MaxSimulatedDraws);
        Assert.InRange(half / cap, 1.8, 2.2);
        Assert.Equal(cap / 5, DriftDetector.SamplingNoise(model, DriftDetector.MaxSimulatedDraws * 5.0), 12);
        Assert.Equal(at800, DriftDetector.SamplingNoise(model, 800), 15); // seeded: the same inputs, the same answer
    }
}
