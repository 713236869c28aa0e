using System.Globalization;
using Spectre.Console;

namespace PopSteer.Cli.Demo;

/// <summary>One refresh of the demo's live view: throughput, latency, lag and what is being served.</summary>
internal sealed record DashboardRow(
    TimeSpan Elapsed,
    double Alpha,
    PipelineStatistics.Snapshot Rates,
    long Events,
    long Recommendations,
    long? IngestLag,
    long? ScorerLag,
    double ServedTailShare,
    double SampleTailShare,
    double ShadowTailShare,
    double SampleGini,
    double ShadowGini,
    int SampleLists)
{
    private static string N(double x, string format) => double.IsNaN(x) ? "-" : x.ToString(format, CultureInfo.InvariantCulture);
    private static string Lag(long? lag) => lag?.ToString("N0", CultureInfo.InvariantCulture) ?? "?";

    public string ToLine() =>
        $"  t={N(Elapsed.TotalSeconds, "0"),4}s alpha={N(Alpha, "0.##"),-4} events {N(Rates.EventsPerSecond, "0"),5}/s recs {N(Rates.RecommendationsPerSecond, "0"),5}/s " +
        $"latency p50 {N(Rates.LatencyP50Ms, "0.0")} ms p99 {N(Rates.LatencyP99Ms, "0.0")} ms lag ingest {Lag(IngestLag)} scorer {Lag(ScorerLag)} | " +
        $"tail share served {N(SampleTailShare, "0.000")} vs unsteered {N(ShadowTailShare, "0.000")}, gini@10 {N(SampleGini, "0.000")} vs {N(ShadowGini, "0.000")} (last {SampleLists:N0} sampled lists)";

    public Table ToTable()
    {
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]PopSteer.Stream demo[/] (Ctrl-C stops)");
        table.AddColumn("");
        table.AddColumn(new TableColumn("now").RightAligned());
        table.AddColumn(new TableColumn("unsteered shadow").RightAligned());
        table.AddRow("elapsed", $"{N(Elapsed.TotalSeconds, "0")} s", "");
        table.AddRow("alpha (Steering:Alpha)", N(Alpha, "0.##"), "0 (SASRec)");
        table.AddRow("events/s", N(Rates.EventsPerSecond, "0"), "");
        table.AddRow("recommendations/s", N(Rates.RecommendationsPerSecond, "0"), "");
        table.AddRow("event→recommendation p50 / p99", $"{N(Rates.LatencyP50Ms, "0.0")} / {N(Rates.LatencyP99Ms, "0.0")} ms", "");
        table.AddRow("consumer lag ingest / scorer", $"{Lag(IngestLag)} / {Lag(ScorerLag)}", "");
        table.AddRow("events / recommendations total", $"{Events:N0} / {Recommendations:N0}", "");
        table.AddRow("tail share of served slots (sample)", N(SampleTailShare, "0.000"), N(ShadowTailShare, "0.000"));
        table.AddRow("gini@10 of served lists (sample)", N(SampleGini, "0.000"), N(ShadowGini, "0.000"));
        table.AddRow("tail share, all served lists", N(ServedTailShare, "0.000"), "");
        table.AddRow("sampled lists in window", SampleLists.ToString("N0", CultureInfo.InvariantCulture), "");
        return table;
    }
}
