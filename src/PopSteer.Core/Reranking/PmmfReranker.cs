using PopSteer.Core.Data;

namespace PopSteer.Core.Reranking;

/// <summary>
/// P-MMF, provider max-min fairness re-ranking (Xu et al., WWW 2023), with the three popularity groups as the
/// providers (METHOD.md section 8), as the authors' RecBole code runs it (parepic/PopSteer,
/// <c>p_mmf_re_ranking</c>; docs/rerank.md lists what differs). Each batch is one horizon of T users, served in
/// batch order, starting from zero dual prices, the full budget and no momentum:
/// <list type="number">
/// <item>budgets rho_g = (1 + 1/3) * |group g| / items (the authors' budget factor: 4/3 of the group's item share),
/// and a remaining budget B_g = T * K * rho_g for the batch;</item>
/// <item>for each user: top-K by s_i - mu_{g(i)}, items of a group whose remaining budget is spent coming only after
/// every other item (the authors' -10,000 mask), shown in base-score order; B_g -= the list's items in g;</item>
/// <item>gradient g = -(list's items in g)/K + B_g/(T K), smoothed as g = a g + (1 - a) g_prev (momentum a = 0.9, the
/// authors' default);</item>
/// <item>mirror-descent step mu~ = mu - eta * g / rho^2, then the paper's projection onto the dual feasible set
/// (<see cref="MaxMinDualProjection"/>), whose size lambda sets how far under-exposed groups may be boosted.</item>
/// </list>
/// Deterministic: the same batch gives the same lists, whatever came before.
/// </summary>
public sealed class PmmfReranker : IReranker
{
    private const int GroupCount = 3;

    /// <summary>The authors' budget factor 1 + 1/m for m = 3 providers.</summary>
    public const double BudgetFactor = 1.0 + 1.0 / GroupCount;

    /// <summary>The authors' default weight of the new gradient in the momentum average.</summary>
    public const double DefaultMomentum = 0.9;

    private readonly PopularityGroups _groups;
    private readonly double[] _rho = new double[GroupCount];
    private readonly double[] _mu = new double[GroupCount];
    private readonly double[] _exposure = new double[GroupCount];

    public PmmfReranker(PopularityGroups groups, double lambda, double eta, double momentum = DefaultMomentum)
    {
        ArgumentNullException.ThrowIfNull(groups);
        _groups = groups;
        Lambda = RerankerArguments.Positive(lambda, "P-MMF", nameof(lambda));
        Eta = RerankerArguments.Positive(eta, "P-MMF", nameof(eta));
        Momentum = RerankerArguments.ClosedUnit(momentum, "P-MMF", nameof(momentum));
        int items = groups.ItemCount;
        if (items < 1) throw new ArgumentException("P-MMF needs at least one item.", nameof(groups));
        for (int i = 1; i <= items; i++) _rho[(int)groups[i]] += BudgetFactor / items;
    }

    public string Name => "P-MMF";

    public double Lambda { get; }

    public double Eta { get; }

    /// <summary>Weight of the new gradient against the previous (smoothed) one.</summary>
    public double Momentum { get; }

    public IReadOnlyDictionary<string, double> Parameters => new Dictionary<string, double> { ["lambda"] = Lambda, ["eta"] = Eta };

    /// <summary>Budget share rho_g per group (including the 4/3 factor), indexed by <see cref="PopularityGroup"/>.</summary>
    public IReadOnlyList<double> BudgetShare => _rho;

    /// <summary>Dual prices mu_g after the last user of the last batch, indexed by <see cref="PopularityGroup"/>.</summary>
    public IReadOnlyList<double> Duals => _mu;

    /// <summary>Items recommended so far per group, over every batch, indexed by <see cref="PopularityGroup"/>.</summary>
    public IReadOnlyList<double> CumulativeExposure => _exposure;

    public int UsersServed { get; private set; }

    public int[][] Rerank(ScoreBatch scores, IReadOnlyList<int[]> histories, int k)
    {
        RerankerArguments.CheckCall(scores, histories, k, _groups.Counts.Length, Name);
        int users = scores.Users;
        var lists = new int[users][];
        // Every batch is a fresh horizon: prices, budgets and momentum start over.
        Array.Clear(_mu);
        var remaining = _rho.Select(r => r * users * k).ToArray();
        var previous = new double[GroupCount];
        var open = new double[scores.Columns];
        var spent = new double[scores.Columns];
        var baseScores = new double[scores.Columns];
        var counts = new double[GroupCount];
        for (int u = 0; u < users; u++)
        {
            var row = scores.Row(u);
            open[0] = spent[0] = double.NegativeInfinity;
            for (int i = 1; i < row.Length; i++)
            {
                int g = (int)_groups[i];
                double adjusted = float.IsFinite(row[i]) ? row[i] - _mu[g] : double.NegativeInfinity;
                bool exhausted = remaining[g] <= 0;
                open[i] = exhausted ? double.NegativeInfinity : adjusted;
                spent[i] = exhausted ? adjusted : double.NegativeInfinity;
            }
            var chosen = TopItems.Select(open, k);
            if (chosen.Length < k) chosen = [.. chosen, .. TopItems.Select(spent, k - chosen.Length)];
            // Relevance orders the chosen set (ties by id, as everywhere).
            foreach (int item in chosen) baseScores[item] = row[item];
            Array.Sort(chosen, (a, b) => a == b ? 0 : TopItems.Better(baseScores[a], a, baseScores[b], b) ? -1 : 1);
            lists[u] = chosen;

            Array.Clear(counts);
            foreach (int item in chosen) counts[(int)_groups[item]]++;
            var tilde = new double[GroupCount];
            for (int g = 0; g < GroupCount; g++)
            {
                _exposure[g] += counts[g];
                remaining[g] -= counts[g];
                double gradient = -counts[g] / k + remaining[g] / ((double)users * k);
                gradient = Momentum * gradient + (1 - Momentum) * previous[g];
                previous[g] = gradient;
                tilde[g] = _rho[g] > 0 ? _mu[g] - Eta * gradient / (_rho[g] * _rho[g]) : 0;
            }
            var next = MaxMinDualProjection.Project(tilde, _rho, Lambda);
            Array.Copy(next, _mu, GroupCount);
            UsersServed++;
        }
        return lists;
    }
}
