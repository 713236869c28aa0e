using System.Text.Json;
using PopSteer.Cli.Reporting;
using PopSteer.Core.Metrics;

namespace PopSteer.Cli.Tests;

public class EvaluationReportTests
{
    private static readonly MetricSet Sample = new()
    {
        Users = 3, Ndcg = 0.25, Hit = 0.5, Mrr = 0.2, Gini = 0.8, TailCoverage = 0.1, LongTailCoverage = 0.3,
        ItemCoverage = 0.4, Aplt = 0.35, Arp = 120.5, NdcgHead = 0.3, NdcgMid = 0.2, NdcgTail = 0.05,
    };

    [Fact]
    public void Json_follows_the_evaluate_schema_and_reads_back_the_same()
    {
        var report = new EvaluationReport("test", 3,
        [
            new MethodResult("SASRec", Sample),
            new MethodResult("PopSteer", Sample with { Gini = 0.7 }, Alpha: 1.5, Neurons: 4096),
            new MethodResult("FA*IR", Sample, Params: new Dictionary<string, double> { ["p"] = 0.5 }, MsPer1000Users: 12.5),
        ]);

        using var doc = JsonDocument.Parse(report.ToJson());
        var root = doc.RootElement;
        Assert.Equal("test", root.GetProperty("split").GetString());
        Assert.Equal(3, root.GetProperty("users").GetInt32());
        var methods = root.GetProperty("methods");
        Assert.Equal(3, methods.GetArrayLength());
        var popsteer = methods[1];
        Assert.Equal("PopSteer", popsteer.GetProperty("name").GetString());
        Assert.Equal(1.5, popsteer.GetProperty("alpha").GetDouble());
        Assert.Equal(4096, popsteer.GetProperty("neurons").GetInt32());
        var metrics = popsteer.GetProperty("metrics");
        foreach (var name in new[] { "ndcg@10", "hit@10", "mrr@10", "gini@10", "tail_coverage@10", "lt_coverage@10", "item_coverage@10", "aplt@10", "arp@10", "ndcg_head@10", "ndcg_mid@10", "ndcg_tail@10" })
            Assert.True(metrics.TryGetProperty(name, out _), $"metric {name} missing");
        Assert.Equal(0.7, metrics.GetProperty("gini@10").GetDouble());
        Assert.Equal("FA*IR", methods[2].GetProperty("name").GetString());
        Assert.Equal(0.5, methods[2].GetProperty("params").GetProperty("p").GetDouble());

        var back = EvaluationReport.FromJson(report.ToJson());
        Assert.Equal(report.Methods.Count, back.Methods.Count);
        Assert.Equal(0.7, back.Methods[1].Metrics.Gini);
        Assert.Equal(1.5, back.Methods[1].Alpha);
    }

    [Fact]
    public void Csv_and_markdown_carry_every_metric_name_and_row()
    {
        var report = new EvaluationReport("valid", 3, [new MethodResult("SASRec", Sample), new MethodResult("SAE", Sample)]);
        var csv = report.ToCsv().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, csv.Length);
        foreach (var (name, _) in Sample.Named()) Assert.Contains(name, csv[0]);
        Assert.StartsWith("valid,3,SAE,", csv[2]);
        Assert.Contains("gini@10", report.ToMarkdown());
    }
}
