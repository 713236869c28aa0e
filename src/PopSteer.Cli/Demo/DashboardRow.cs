using System.Globalization;
using Spectre.Console;

namespace PopSteer.Cli.Demo;

/// <summary>One refresh of the demo's live view: throughput, latency, lag, drift, the model and what is being served.</summary>
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
    public string Phase { get; init; } = "";
    public string ModelVersion { get; init; } = "";
    public double DriftJs { get; init; } = double.NaN;
    public double DriftJsNoise { get; init; } = double.NaN;
    public double HeadOverlap { get; init; } = double.NaN;
    public double UnknownShare { get; init; } = double.NaN;
    public string Refit { get; init; } = "";
    public double StaleTailShare { get; init; } = double.NaN;
    public double StaleGini { get; init; } = double.NaN;

    private static string N(double x, string format) => double.IsNaN(x) ? "-" : x.ToString(format, CultureInfo.InvariantCulture);
    private static string Lag(long? lag) => lag?.ToString("N0", CultureInfo.InvariantCulture) ?? "?";
    private static string Short(string version) => version.Length > 8 ? version[..8] : version;

    public string ToLine() =>
        $"  t={N(Elapsed.TotalSeconds, "0"),4}s [{Phase}] model {Short(ModelVersion)} alpha={N(Alpha, "0.##"),-4} events {N(Rates.EventsPerSecond, "0"),5}/s recs {N(Rates.RecommendationsPerSecond, "0"),5}/s " +
        $"p50 {N(Rates.LatencyP50Ms, "0")} ms p99 {N(Rates.LatencyP99Ms, "0")} ms lag {Lag(IngestLag)}/{Lag(ScorerLag)} | " +
        $"drift JS {N(DriftJs, "0.000")} (noise {N(DriftJsNoise, "0.000")}) head overlap {N(HeadOverlap, "0.00")} unknown {N(UnknownShare, "0.000")} | " +
        $"tail share {N(SampleTailShare, "0.000")} vs unsteered {N(ShadowTailShare, "0.000")}" + (double.IsNaN(StaleTailShare) ? "" : $" vs stale {N(StaleTailShare, "0.000")}") +
        $", gini@10 {N(SampleGini, "0.000")} vs {N(ShadowGini, "0.000")}" + (double.IsNaN(StaleGini) ? "" : $" vs stale {N(StaleGini, "0.000")}") +
        (Refit.Length > 0 ? $" | {Refit}" : "");

    public Table ToTable()
    {
        var table = new Table().Border(TableBorder.Rounded).Title("[bold]PopSteer.Stream demo[/] (Ctrl-C stops)");
        table.AddColumn("");
        table.AddColumn(new TableColumn("now").RightAligned());
        table.AddColumn(new TableColumn("unsteered shadow").RightAligned());
        table.AddColumn(new TableColumn("stale model").RightAligned());
        table.AddRow("elapsed / phase", $"{N(Elapsed.TotalSeconds, "0")} s", Markup.Escape(Phase), "");
        table.AddRow("model version / alpha (Steering:Alpha)", $"{Short(ModelVersion)} / {N(Alpha, "0.##")}", "0 (SASRec)", "version before the refit");
        table.AddRow("events/s / recommendations/s", $"{N(Rates.EventsPerSecond, "0")} / {N(Rates.RecommendationsPerSecond, "0")}", "", "");
        table.AddRow("event→recommendation p50 / p99", $"{N(Rates.LatencyP50Ms, "0.0")} / {N(Rates.LatencyP99Ms, "0.0")} ms", "", "");
        table.AddRow("consumer lag ingest / scorer", $"{Lag(IngestLag)} / {Lag(ScorerLag)}", "", "");
        table.AddRow("events / recommendations total", $"{Events:N0} / {Recommendations:N0}", "", "");
        table.AddRow("drift: JS (bits) (sampling noise) / head overlap / unknown share", $"{N(DriftJs, "0.000")} ({N(DriftJsNoise, "0.000")}) / {N(HeadOverlap, "0.00")} / {N(UnknownShare, "0.000")}", "", "");
        table.AddRow("tail share of served slots (sample)", N(SampleTailShare, "0.000"), N(ShadowTailShare, "0.000"), N(StaleTailShare, "0.000"));
        table.AddRow("gini@10 of served lists (sample)", N(SampleGini, "0.000"), N(ShadowGini, "0.000"), N(StaleGini, "0.000"));
        table.AddRow("tail share, all served lists", N(ServedTailShare, "0.000"), "", "");
        table.AddRow("sampled lists in window", SampleLists.ToString("N0", CultureInfo.InvariantCulture), "", "");
        table.AddRow("retrainer", Markup.Escape(Refit.Length > 0 ? Refit : "measuring drift"), "", "");
        return table;
    }
}
