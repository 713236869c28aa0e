using Google.OrTools.LinearSolver;

namespace PopSteer.Core.Reranking;

/// <summary>
/// PCT's personalised tail-exposure targets (METHOD.md section 8). Each user starts from the tail share of their
/// own history, h_u; a small linear program moves the targets as little as possible, in the worst case over
/// users, so that their mean is exactly the global target p:
/// <code>
///   minimise z   subject to   |t_u - h_u| &lt;= z,   0 &lt;= t_u &lt;= 1,   sum_u t_u = U * p
/// </code>
/// Its optimum is unique, t_u = clip(h_u + delta, 0, 1) for one common delta: every user keeps their taste
/// relative to the others and pays the same shift (a sum-of-deviations objective would instead push a few users
/// to 0 or 1 and leave the rest alone, since any split of the total shift costs the same there).
/// Solved with OR-Tools GLOP: an LP of U + 1 variables per batch is a few milliseconds, and a maintained simplex
/// code is preferred to a hand-rolled search.
/// </summary>
public static class CalibrationTargets
{
    /// <param name="historyTailShare">h_u in [0, 1] per user.</param>
    /// <param name="p">Global target in (0, 1).</param>
    public static double[] Solve(IReadOnlyList<double> historyTailShare, double p)
    {
        ArgumentNullException.ThrowIfNull(historyTailShare);
        RerankerArguments.OpenUnit(p, "PCT", nameof(p));
        int users = historyTailShare.Count;
        if (users == 0) return [];
        for (int u = 0; u < users; u++)
            RerankerArguments.ClosedUnit(historyTailShare[u], "PCT", $"historyTailShare[{u}]");

        using var solver = Solver.CreateSolver("GLOP") ?? throw new InvalidOperationException("OR-Tools GLOP is not available in this build.");
        var z = solver.MakeNumVar(0, double.PositiveInfinity, "z");
        var t = new Variable[users];
        var mean = solver.MakeConstraint(users * p, users * p, "mean_target");
        for (int u = 0; u < users; u++)
        {
            t[u] = solver.MakeNumVar(0, 1, $"t{u}");
            mean.SetCoefficient(t[u], 1);
            var upper = solver.MakeConstraint(double.NegativeInfinity, historyTailShare[u], $"up{u}");   // t_u - z <= h_u
            upper.SetCoefficient(t[u], 1);
            upper.SetCoefficient(z, -1);
            var lower = solver.MakeConstraint(historyTailShare[u], double.PositiveInfinity, $"down{u}"); // t_u + z >= h_u
            lower.SetCoefficient(t[u], 1);
            lower.SetCoefficient(z, 1);
        }
        var objective = solver.Objective();
        objective.SetCoefficient(z, 1);
        objective.SetMinimization();

        var status = solver.Solve();
        if (status != Solver.ResultStatus.OPTIMAL)
            throw new InvalidOperationException($"PCT target LP ended with status {status} for {users} users at p = {p}.");
        var targets = new double[users];
        for (int u = 0; u < users; u++) targets[u] = Math.Clamp(t[u].SolutionValue(), 0, 1);
        return targets;
    }
}
