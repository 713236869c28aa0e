namespace PopSteer.Core.Data;

/// <summary>
/// A seeded interaction log with a long tail and sequential structure. Items have Zipf-Mandelbrot popularity and belong to
/// latent clusters; each item has a few successors inside its cluster, picked by popularity. A user has two favourite
/// clusters; each next item follows a successor of the current item (predictable from recent items), or comes from a
/// favourite cluster, or from the whole catalogue, always weighted by popularity. Session lengths are log-normal,
/// at least 5 where the budget allows, and sum exactly to the requested number of interactions. Optionally the next item
/// repeats the previous one with probability <see cref="SyntheticDataOptions.RepeatPrevious"/>.
/// </summary>
public static class SyntheticDataGenerator
{
    public static IReadOnlyList<Interaction> Generate(SyntheticDataOptions o)
    {
        ArgumentNullException.ThrowIfNull(o);
        o.Validate();
        var rng = new Random(o.Seed);
        int n = o.Items;

        // Popularity: a random permutation assigns Zipf ranks, so item id says nothing about popularity.
        var rankOf = Enumerable.Range(0, n).OrderBy(_ => rng.Next()).ToArray();
        var weight = new double[n];
        double offset = o.ZipfOffset * n;
        for (int i = 0; i < n; i++) weight[i] = Math.Pow(rankOf[i] + 1 + offset, -o.ZipfExponent);

        int clusterCount = Math.Max(1, n / o.ClusterSize);
        var clusterOf = new int[n];
        for (int i = 0; i < n; i++) clusterOf[i] = rng.Next(clusterCount);
        var clusters = Enumerable.Range(0, clusterCount).Select(c => new List<int>()).ToArray();
        for (int i = 0; i < n; i++) clusters[clusterOf[i]].Add(i);
        var clusterSamplers = clusters.Select(c => c.Count == 0 ? null : new WeightedSampler(c.ToArray(), weight)).ToArray();
        var global = new WeightedSampler(Enumerable.Range(0, n).ToArray(), weight);
        var clusterMass = clusters.Select(c => c.Sum(i => weight[i])).ToArray();
        var clusterPicker = new WeightedSampler(Enumerable.Range(0, clusterCount).ToArray(), clusterMass);

        var successors = new int[n][];
        for (int i = 0; i < n; i++)
        {
            var sampler = clusterSamplers[clusterOf[i]]!;
            successors[i] = Enumerable.Range(0, o.Successors).Select(_ => sampler.Next(rng)).ToArray();
        }

        var lengths = Lengths(o, rng);
        var rows = new List<Interaction>(o.Interactions);
        for (int u = 0; u < o.Users; u++)
        {
            int favA = clusterPicker.Next(rng), favB = clusterPicker.Next(rng);
            long ts = 1_000_000_000L + rng.Next(0, 100_000_000);
            int current = clusterSamplers[favA]!.Next(rng);
            for (int t = 0; t < lengths[u]; t++)
            {
                // A repeat keeps the current item; the draw happens only when the option is on (unchanged output when off).
                if (t > 0 && !(o.RepeatPrevious > 0 && rng.NextDouble() < o.RepeatPrevious))
                {
                    double r = rng.NextDouble();
                    if (r < o.FollowChain)
                    {
                        // Earlier successors are likelier: a sharp but not deterministic next-item signal.
                        var next = successors[current];
                        double q = rng.NextDouble();
                        current = next[q < 0.6 ? 0 : q < 0.85 || next.Length < 3 ? Math.Min(1, next.Length - 1) : rng.Next(2, next.Length)];
                    }
                    else if (r < o.FollowChain + o.StayInTaste)
                        current = clusterSamplers[rng.NextDouble() < 0.5 ? favA : favB]!.Next(rng);
                    else
                        current = global.Next(rng);
                }
                ts += rng.Next(1, 3600);
                rows.Add(new Interaction($"u{u + 1}", $"i{current + 1}", ts));
            }
        }
        return rows;
    }

    private static int[] Lengths(SyntheticDataOptions o, Random rng)
    {
        int min = Math.Max(1, Math.Min(5, o.Interactions / o.Users));
        var raw = new double[o.Users];
        for (int u = 0; u < o.Users; u++)
        {
            // Box-Muller normal -> log-normal session length: most users short, a few very long, as in MovieLens.
            double z = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
            raw[u] = Math.Exp(0.9 * z);
        }
        double total = raw.Sum();
        long spare = o.Interactions - (long)min * o.Users;
        var lengths = new int[o.Users];
        long assigned = 0;
        for (int u = 0; u < o.Users; u++)
        {
            lengths[u] = min + (int)Math.Floor(spare * raw[u] / total);
            assigned += lengths[u];
        }
        for (long left = o.Interactions - assigned; left > 0; left--) lengths[rng.Next(o.Users)]++;
        return lengths;
    }

    /// <summary>Draws values[i] with probability proportional to weightOf[values[i]], by binary search over prefix sums.</summary>
    private sealed class WeightedSampler
    {
        private readonly int[] _values;
        private readonly double[] _cumulative;

        public WeightedSampler(int[] values, double[] weightOf)
        {
            _values = values;
            _cumulative = new double[values.Length];
            double acc = 0;
            for (int i = 0; i < values.Length; i++)
            {
                acc += weightOf[values[i]];
                _cumulative[i] = acc;
            }
        }

        public int Next(Random rng)
        {
            double x = rng.NextDouble() * _cumulative[^1];
            int i = Array.BinarySearch(_cumulative, x);
            if (i < 0) i = ~i;
            return _values[Math.Min(i, _values.Length - 1)];
        }
    }
}
