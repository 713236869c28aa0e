namespace PopSteer.Core.Metrics;

/// <summary>Every metric of METHOD.md section 7 at cutoff K (10), over the users evaluated.</summary>
public sealed record MetricSet
{
    public int Users { get; init; }
    public int K { get; init; } = 10;
    public double Ndcg { get; init; }
    public double Hit { get; init; }
    public double Mrr { get; init; }
    public double Gini { get; init; }
    public double TailCoverage { get; init; }
    public double LongTailCoverage { get; init; }
    public double ItemCoverage { get; init; }
    public double Aplt { get; init; }
    public double Arp { get; init; }
    public double NdcgHead { get; init; }
    public double NdcgMid { get; init; }
    public double NdcgTail { get; init; }

    /// <summary>The names used in JSON, CSV and tables; one list so every output agrees.</summary>
    public IReadOnlyList<KeyValuePair<string, double>> Named() =>
    [
        new($"ndcg@{K}", Ndcg), new($"hit@{K}", Hit), new($"mrr@{K}", Mrr), new($"gini@{K}", Gini),
        new($"tail_coverage@{K}", TailCoverage), new($"lt_coverage@{K}", LongTailCoverage),
        new($"item_coverage@{K}", ItemCoverage), new($"aplt@{K}", Aplt), new($"arp@{K}", Arp),
        new($"ndcg_head@{K}", NdcgHead), new($"ndcg_mid@{K}", NdcgMid), new($"ndcg_tail@{K}", NdcgTail),
    ];
}
