using PopSteer.Core.Data;

namespace PopSteer.Core.Reranking;

/// <summary>
/// P-MMF, provider max-min fairness re-ranking (Xu et al., WWW 2023), with the three popularity groups as the
/// providers (METHOD.md section 8). Users arrive one after another; for each:
/// <list type="number">
/// <item>adjusted scores s_i - mu_{g(i)} over all items, top-K of those, shown in base-score order (as the
/// authors' code does: the duals choose the set, relevance orders it);</item>
/// <item>gradient of the dual: g = rho - (share of the list in each group), rho_g = |group g| / items, the
/// groups' budget shares;</item>
/// <item>mirror-descent step mu~ = mu - eta * g / rho^2, then the paper's projection onto the dual feasible set
/// (<see cref="MaxMinDualProjection"/>), whose size lambda sets how far under-exposed groups may be boosted.</item>
/// </list>
/// The duals persist across batches: one instance is one stream. Within each batch users are visited in a
/// seeded permutation, so a run repeats exactly for the same batches and seed.
/// <para>
/// The authors' script also masks groups whose total budget T*K*rho_g is spent; with rho proportional to group
/// size that caps the head at its item share whatever lambda and eta are, so it is off unless
/// <c>horizonUsers</c> is given. Their script's gradient smoothing (momentum 0.2) and its eta / sqrt(items)
/// scaling are not used: eta is the step of the paper's Algorithm 1.
/// </para>
/// </summary>
public sealed class PmmfReranker : IReranker
{
    private const int GroupCount = 3;
    private readonly PopularityGroups _groups;
    private readonly double[] _rho = new double[GroupCount];
    private readonly double[] _mu = new double[GroupCount];
    private readonly double[] _exposure = new double[GroupCount];
    private readonly double[]? _budget;
    private readonly Random _order;

    public PmmfReranker(PopularityGroups groups, double lambda, double eta, int seed = 42, int? horizonUsers = null, int horizonK = 10)
    {
        ArgumentNullException.ThrowIfNull(groups);
        _groups = groups;
        Lambda = RerankerArguments.Positive(lambda, "P-MMF", nameof(lambda));
        Eta = RerankerArguments.Positive(eta, "P-MMF", nameof(eta));
        Seed = seed;
        _order = new Random(seed);
        int items = groups.ItemCount;
        if (items < 1) throw new ArgumentException("P-MMF needs at least one item.", nameof(groups));
        for (int i = 1; i <= items; i++) _rho[(int)groups[i]] += 1.0 / items;
        if (horizonUsers is { } horizon)
        {
            RerankerArguments.AtLeastOne(horizon, "P-MMF", nameof(horizonUsers));
            RerankerArguments.AtLeastOne(horizonK, "P-MMF", nameof(horizonK));
            _budget = _rho.Select(r => r * horizon * horizonK).ToArray();
        }
    }

    public string Name => "P-MMF";

    public double Lambda { get; }

    public double Eta { get; }

    public int Seed { get; }

    public IReadOnlyDictionary<string, double> Parameters => new Dictionary<string, double> { ["lambda"] = Lambda, ["eta"] = Eta };

    /// <summary>Budget share rho_g per group, indexed by <see cref="PopularityGroup"/>.</summary>
    public IReadOnlyList<double> BudgetShare => _rho;

    /// <summary>Current dual prices mu_g, indexed by <see cref="PopularityGroup"/>.</summary>
    public IReadOnlyList<double> Duals => _mu;

    /// <summary>Items recommended so far per group, indexed by <see cref="PopularityGroup"/>.</summary>
    public IReadOnlyList<double> CumulativeExposure => _exposure;

    public int UsersServed { get; private set; }

    public int[][] Rerank(ScoreBatch scores, IReadOnlyList<int[]> histories, int k)
    {
        RerankerArguments.CheckCall(scores, histories, k, _groups.Counts.Length, Name);
        var lists = new int[scores.Users][];
        var order = Enumerable.Range(0, scores.Users).ToArray();
        _order.Shuffle(order);
        var adjusted = new double[scores.Columns];
        var listShare = new double[GroupCount];
        var baseScores = new double[scores.Columns];
        foreach (int u in order)
        {
            var row = scores.Row(u);
            bool masking = _budget is not null && _budget.Any(b => b > 0);
            adjusted[0] = double.NegativeInfinity;
            for (int i = 1; i < row.Length; i++)
            {
                int g = (int)_groups[i];
                adjusted[i] = !float.IsFinite(row[i]) || (masking && _budget![g] <= 0) ? double.NegativeInfinity : row[i] - _mu[g];
            }
            var chosen = TopItems.Select(adjusted, k);
            // Relevance orders the chosen set (ties by id, as everywhere).
            foreach (int item in chosen) baseScores[item] = row[item];
            Array.Sort(chosen, (a, b) => a == b ? 0 : TopItems.Better(baseScores[a], a, baseScores[b], b) ? -1 : 1);
            lists[u] = chosen;
            if (chosen.Length == 0) continue;

            Array.Clear(listShare);
            foreach (int item in chosen) listShare[(int)_groups[item]] += 1.0 / chosen.Length;
            var tilde = new double[GroupCount];
            for (int g = 0; g < GroupCount; g++)
            {
                _exposure[g] += listShare[g] * chosen.Length;
                if (_budget is not null) _budget[g] -= listShare[g] * chosen.Length;
                double gradient = _rho[g] - listShare[g];
                tilde[g] = _rho[g] > 0 ? _mu[g] - Eta * gradient / (_rho[g] * _rho[g]) : 0;
            }
            var next = MaxMinDualProjection.Project(tilde, _rho, Lambda);
            Array.Copy(next, _mu, GroupCount);
            UsersServed++;
        }
        return lists;
    }
}
