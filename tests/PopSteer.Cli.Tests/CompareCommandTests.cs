using System.Globalization;
using System.Text.Json;

namespace PopSteer.Cli.Tests;

/// <summary>`popsteer compare` end to end on a small fitted model: every output carries the same significance numbers.</summary>
public sealed class CompareCommandTests(OfflineVerbsTests.FittedModel fitted) : IClassFixture<OfflineVerbsTests.FittedModel>
{
    private static int Run(params string[] args) => CliApp.RunAsync(args).GetAwaiter().GetResult();

    [Fact]
    public void Json_markdown_csv_and_plot_agree_on_the_tests_the_fronts_and_the_verdict()
    {
        string json = Path.Combine(fitted.Root, "compare.json"), md = Path.Combine(fitted.Root, "compare.md");
        string csv = Path.Combine(fitted.Root, "compare.csv"), png = Path.Combine(fitted.Root, "compare.png");
        Run("compare", "--model", fitted.ModelPath, "--data", fitted.DataPath, "--timed-runs", "1", "--bootstrap", "200",
            "--json", json, "--markdown", md, "--csv", csv, "--plot", png).AssertOk("compare");

        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var root = doc.RootElement;
        var methods = root.GetProperty("methods").EnumerateArray()
            .ToDictionary(m => m.GetProperty("name").GetString()!, m => m.GetProperty("metrics"));
        // MostPop and Last item join as reference rows once wired; the compared methods come in this order.
        Assert.Equal(["SASRec", "SAE", "PopSteer", "IPR", "FA*IR", "PCT", "P-MMF"], methods.Keys.Where(k => k is not ("MostPop" or "Last item")));

        // Every method against SASRec and against PopSteer, and each difference is the table's difference.
        var pairs = root.GetProperty("significance").EnumerateArray().ToArray();
        Assert.Equal(2 * (methods.Count - 1), pairs.Length);
        foreach (var p in pairs)
        {
            string method = p.GetProperty("method").GetString()!, against = p.GetProperty("against").GetString()!;
            double expected = methods[method].GetProperty("ndcg@10").GetDouble() - methods[against].GetProperty("ndcg@10").GetDouble();
            var ndcg = p.GetProperty("ndcg_difference");
            Assert.Equal(expected, ndcg.GetProperty("estimate").GetDouble(), 12);
            Assert.True(ndcg.GetProperty("low").GetDouble() <= ndcg.GetProperty("high").GetDouble());
            double giniExpected = methods[method].GetProperty("gini@10").GetDouble() - methods[against].GetProperty("gini@10").GetDouble();
            Assert.Equal(giniExpected, p.GetProperty("gini_difference").GetProperty("estimate").GetDouble(), 12);
            Assert.InRange(p.GetProperty("wilcoxon").GetProperty("p").GetDouble(), 0, 1);
        }
        var fronts = root.GetProperty("fronts").GetProperty("methods").EnumerateArray().ToArray();
        Assert.Equal(["PopSteer", "IPR", "FA*IR", "PCT", "P-MMF"], fronts.Select(f => f.GetProperty("method").GetString()));
        var verdict = root.GetProperty("verdict").EnumerateArray().Select(v => v.GetString()!).ToArray();
        Assert.Contains(verdict, l => l.StartsWith("PopSteer vs SASRec on test", StringComparison.Ordinal));

        string markdown = File.ReadAllText(md);
        Assert.All(verdict, line => Assert.Contains(line, markdown, StringComparison.Ordinal));
        Assert.Contains("### Significance on test", markdown, StringComparison.Ordinal);
        Assert.Contains("### Validation Pareto fronts", markdown, StringComparison.Ordinal);

        var rows = File.ReadAllLines(csv);
        Assert.Equal(methods.Count + 1, rows.Length);
        var header = rows[0].Split(',');
        int wilcoxon = Array.IndexOf(header, "wilcoxon_p_vs_sasrec");
        Assert.True(wilcoxon > 0, "the CSV carries the tests against SASRec");
        var pctPair = pairs.First(p => p.GetProperty("method").GetString() == "PCT" && p.GetProperty("against").GetString() == "SASRec");
        var pctRow = rows.Single(r => r.Contains(",PCT,", StringComparison.Ordinal)).Split(',');
        Assert.Equal(pctPair.GetProperty("wilcoxon").GetProperty("p").GetDouble(), double.Parse(pctRow[wilcoxon], CultureInfo.InvariantCulture), 12);

        Assert.True(new FileInfo(png).Length > 10_000, "the plot was written");
    }
}
