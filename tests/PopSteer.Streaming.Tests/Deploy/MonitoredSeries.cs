using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Serialization;

namespace PopSteer.Streaming.Tests.Deploy;

/// <summary>The PromQL of deploy/monitoring: every alert rule's and every dashboard panel's expression, and the PopSteer series they name.</summary>
internal static partial class MonitoredSeries
{
    public static string RulesFile => RepositoryRoot.Combine("deploy", "monitoring", "popsteer-rules.yaml");
    public static string PrometheusRuleFile => RepositoryRoot.Combine("deploy", "monitoring", "prometheusrule.yaml");
    public static string DashboardFile => RepositoryRoot.Combine("deploy", "monitoring", "popsteer-dashboard.json");

    /// <summary>(alert name, expression) of the plain rule file.</summary>
    public static IReadOnlyList<(string Alert, string Expr)> Alerts()
    {
        var rules = new DeserializerBuilder().Build().Deserialize<Dictionary<string, List<Dictionary<string, object>>>>(File.ReadAllText(RulesFile));
        return rules["groups"]
            .SelectMany(g => ((List<object>)g["rules"]).Cast<Dictionary<object, object>>())
            .Select(r => ((string)r["alert"], (string)r["expr"]))
            .ToArray();
    }

    /// <summary>(panel title, expression) of every target of every dashboard panel.</summary>
    public static IReadOnlyList<(string Panel, string Expr)> Panels()
    {
        var dashboard = JsonNode.Parse(File.ReadAllText(DashboardFile))!;
        return dashboard["panels"]!.AsArray()
            .SelectMany(p => p!["targets"]!.AsArray().Select(t => ((string)p["title"]!, (string)t!["expr"]!)))
            .ToArray();
    }

    /// <summary>The popsteer_* series names an expression uses.</summary>
    public static IEnumerable<string> Names(string expr) => SeriesName().Matches(expr).Select(m => m.Value).Distinct();

    [GeneratedRegex(@"\bpopsteer_[a-z0-9_]+\b")]
    private static partial Regex SeriesName();
}
