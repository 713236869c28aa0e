using PopSteer.Core.Metrics;

namespace PopSteer.Cli.Reporting;

/// <summary>
/// One row of an evaluation or comparison: a method, the settings it ran with and its metrics.
/// PopSteer rows carry <see cref="Alpha"/> and <see cref="Neurons"/>; baselines carry their own
/// hyperparameters in <see cref="Params"/> (e.g. "p", "alpha", "lambda") and, where measured,
/// the wall time per 1,000 users. <see cref="Note"/> flags anything a reader must know about the row (e.g. no grid
/// point met the NDCG bound).
/// </summary>
public sealed record MethodResult(
    string Name,
    MetricSet Metrics,
    double? Alpha = null,
    int? Neurons = null,
    IReadOnlyDictionary<string, double>? Params = null,
    double? MsPer1000Users = null,
    string? Note = null)
{
    /// <summary>Settings in one short human string: "alpha=1.5, N=4096" or "p=0.5, alpha=0.05".</summary>
    public string Settings
    {
        get
        {
            var parts = new List<string>();
            if (Alpha is { } a) parts.Add($"alpha={ReportFormat.Number(a)}");
            if (Neurons is { } n) parts.Add($"N={n}");
            if (Params is not null)
                parts.AddRange(Params.Select(p => $"{p.Key}={ReportFormat.Number(p.Value)}"));
            return string.Join(", ", parts);
        }
    }
}
