using PopSteer.Core.Data;

namespace PopSteer.Retrainer;

/// <summary>
/// Compares the live (decayed) popularity with a model's popularity groups, item by item through the model's
/// vocabulary. Items the model does not know are left out: its item table is fixed, so they can neither drift nor be
/// refitted; their share is reported. A live sample of a few hundred events diverges from the very distribution it was
/// drawn from (on 1,000 items, 800 events from unchanged popularity measure a JS of ~0.1 bits), so every report also
/// carries <see cref="DriftReport.SamplingNoiseJs"/>, the divergence sampling alone gives at that live mass, and the
/// drift rule uses the divergence above it.
/// </summary>
public static class DriftDetector
{
    /// <summary>
    /// Decayed counts are fractional; <see cref="PopularityGroups"/> takes whole counts. Counting in thousandths of an
    /// interaction keeps every share to well within the groups' tolerance.
    /// </summary>
    public const double CountScale = 1000;

    public static DriftReport Compare(string modelVersion, IReadOnlyDictionary<string, double> live, ItemVocabulary items, PopularityGroups model)
    {
        if (model.ItemCount != items.Count)
            throw new ArgumentException($"The groups cover {model.ItemCount} items but the vocabulary {items.Count}.", nameof(model));
        var (liveCounts, unknown) = Map(live, items);
        double liveMass = liveCounts.Sum();
        var modelCounts = model.Counts.Select(c => (double)c).ToArray();
        modelCounts[0] = 0;
        if (liveMass <= 0)
            return new DriftReport(modelVersion, double.NaN, double.NaN, model.Size(PopularityGroup.Head), 0, 0, unknown);

        var liveGroups = PopularityGroups.FromCounts(ToWholeCounts(liveCounts), model.Share);
        var modelHead = model.Items(PopularityGroup.Head).ToArray();
        int liveHead = liveGroups.Size(PopularityGroup.Head);
        double overlap = modelHead.Length == 0 ? double.NaN : modelHead.Count(i => liveGroups[i] == PopularityGroup.Head) / (double)modelHead.Length;
        return new DriftReport(modelVersion, JensenShannon(modelCounts, liveCounts), overlap, modelHead.Length, liveHead, liveMass, unknown)
        {
            SamplingNoiseJs = SamplingNoise(modelCounts, liveMass),
        };
    }

    /// <summary>Draws above this are not simulated: the noise is scaled from it by 1/n (its large-sample law).</summary>
    public const int MaxSimulatedDraws = 200_000;

    /// <summary>
    /// The Jensen-Shannon divergence (bits) that <paramref name="sampleSize"/> draws from <paramref name="model"/>
    /// itself show against it: what a live sample of that size measures when popularity has not moved at all.
    /// Mean of <paramref name="repeats"/> seeded simulations (the same inputs give the same answer). Live counts are
    /// decayed, each event weighing at most 1, so their mass is at most their effective sample size: using the mass
    /// errs towards more noise, hence towards fewer refits. Beyond <see cref="MaxSimulatedDraws"/> the expected
    /// plug-in divergence falls as (support - 1) / (8 n ln 2), so the simulated value is scaled by 1/n.
    /// </summary>
    public static double SamplingNoise(IReadOnlyList<double> model, double sampleSize, int repeats = 4, int seed = 17)
    {
        if (!(sampleSize >= 1)) return sampleSize > 0 ? 1 : double.NaN;
        var cumulative = new double[model.Count];
        double total = 0;
        for (int i = 0; i < model.Count; i++) cumulative[i] = total += Math.Max(0, model[i]);
        if (total <= 0) return double.NaN;
        int draws = (int)Math.Min(Math.Round(sampleSize), MaxSimulatedDraws);
        var rng = new Random(seed);
        var sample = new double[model.Count];
        double sum = 0;
        for (int r = 0; r < repeats; r++)
        {
            Array.Clear(sample);
            for (int d = 0; d < draws; d++)
            {
                int at = Array.BinarySearch(cumulative, rng.NextDouble() * total);
                // Item i owns [cumulative[i - 1], cumulative[i]): an exact hit on a boundary belongs to the next item
                // with mass, and a zero-mass item (equal neighbouring boundaries) never draws.
                at = at >= 0 ? at + 1 : ~at;
                while (at < model.Count - 1 && model[at] <= 0) at++;
                sample[Math.Min(at, model.Count - 1)]++;
            }
            sum += JensenShannon(model, sample);
        }
        return sum / repeats * draws / Math.Max(draws, sampleSize);
    }

    /// <summary>
    /// Jensen-Shannon divergence in bits between two non-negative weight vectors (each normalised to sum 1):
    /// JS(P, Q) = KL(P || M) / 2 + KL(Q || M) / 2 with M = (P + Q) / 2, so 0 &lt;= JS &lt;= 1.
    /// </summary>
    public static double JensenShannon(IReadOnlyList<double> p, IReadOnlyList<double> q)
    {
        if (p.Count != q.Count) throw new ArgumentException($"The distributions have {p.Count} and {q.Count} entries.");
        double sp = 0, sq = 0;
        for (int i = 0; i < p.Count; i++)
        {
            if (p[i] < 0 || q[i] < 0 || !double.IsFinite(p[i]) || !double.IsFinite(q[i]))
                throw new ArgumentException($"Entry {i} is negative or not finite ({p[i]}, {q[i]}).");
            sp += p[i];
            sq += q[i];
        }
        if (sp <= 0 || sq <= 0) throw new ArgumentException("A distribution has no mass.");
        double js = 0;
        for (int i = 0; i < p.Count; i++)
        {
            double a = p[i] / sp, b = q[i] / sq, m = (a + b) / 2;
            if (a > 0) js += a * Math.Log2(a / m) / 2;
            if (b > 0) js += b * Math.Log2(b / m) / 2;
        }
        return Math.Clamp(js, 0, 1);
    }

    /// <summary>Live counts by internal id (index 0 = padding, 0) and the mass on items the vocabulary lacks.</summary>
    public static (double[] Counts, double UnknownMass) Map(IReadOnlyDictionary<string, double> live, ItemVocabulary items)
    {
        var counts = new double[items.Count + 1];
        double unknown = 0;
        foreach (var (item, count) in live)
        {
            if (items.TryGetInternal(item, out var id)) counts[id] += count;
            else unknown += count;
        }
        return (counts, unknown);
    }

    /// <summary>Fixed-point (thousandths of an interaction) counts for <see cref="PopularityGroups.FromCounts"/>.</summary>
    public static long[] ToWholeCounts(IReadOnlyList<double> counts) =>
        counts.Select(c => (long)Math.Round(c * CountScale)).ToArray();
}
