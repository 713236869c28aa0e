using PopSteer.Core.Data;

namespace PopSteer.Core.Reranking;

/// <summary>
/// IPR, inverse-popularity re-ranking (METHOD.md section 8): s'_ui = s_ui / (1 + a * pop_i / max pop), then top-K
/// over all items.
/// <para>
/// Sign caveat: dividing a negative score by a factor above 1 moves it towards zero, i.e. RAISES it, which would
/// promote popular items with negative scores. SASRec's dot-product scores are often negative, so each row is
/// first shifted to be positive (s - min_finite(row) + 1e-6, a per-user constant that leaves the base order
/// unchanged) and the penalty is applied to the shifted score.
/// </para>
/// </summary>
public sealed class IprReranker : IReranker
{
    private const double PositiveFloor = 1e-6;
    private readonly PopularityGroups _groups;
    private readonly double[] _factor;

    /// <param name="strength">a &gt;= 0; 0 reproduces the base ranking.</param>
    public IprReranker(PopularityGroups groups, double strength)
    {
        ArgumentNullException.ThrowIfNull(groups);
        Strength = RerankerArguments.NonNegative(strength, "IPR", nameof(strength));
        _groups = groups;
        long maxPop = groups.Counts.Length > 1 ? groups.Counts.Skip(1).Max() : 0;
        _factor = new double[groups.Counts.Length];
        for (int i = 0; i < _factor.Length; i++)
            _factor[i] = 1.0 + (maxPop > 0 ? Strength * groups.Counts[i] / maxPop : 0.0);
    }

    public string Name => "IPR";

    /// <summary>a in METHOD.md's formula.</summary>
    public double Strength { get; }

    public IReadOnlyDictionary<string, double> Parameters => new Dictionary<string, double> { ["a"] = Strength };

    public int[][] Rerank(ScoreBatch scores, IReadOnlyList<int[]> histories, int k)
    {
        RerankerArguments.CheckCall(scores, histories, k, _groups.Counts.Length, Name);
        var lists = new int[scores.Users][];
        var adjusted = new double[scores.Columns];
        for (int u = 0; u < scores.Users; u++)
        {
            var row = scores.Row(u);
            double min = double.PositiveInfinity;
            for (int i = 1; i < row.Length; i++)
                if (float.IsFinite(row[i]) && row[i] < min) min = row[i];
            adjusted[0] = double.NegativeInfinity;
            for (int i = 1; i < row.Length; i++)
                adjusted[i] = float.IsFinite(row[i]) ? (row[i] - min + PositiveFloor) / _factor[i] : double.NegativeInfinity;
            lists[u] = TopItems.Select(adjusted, k);
        }
        return lists;
    }
}
