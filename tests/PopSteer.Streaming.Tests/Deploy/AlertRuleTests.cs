using YamlDotNet.Serialization;

namespace PopSteer.Streaming.Tests.Deploy;

/// <summary>deploy/monitoring's alert rules: valid for Prometheus (promtool), and the PrometheusRule is the same rules.</summary>
public sealed class AlertRuleTests
{
    private static readonly string[] Required =
    [
        "PopSteerDriftWithoutRefit", "PopSteerRefitsRejectedInARow", "PopSteerSteeringNotWorking", "PopSteerSteeringRefused",
        "PopSteerConsumerLagGrowing", "PopSteerLatencyP99OverBudget", "PopSteerNoModelLoaded",
    ];

    [PromtoolFact]
    public void Promtool_accepts_the_rule_file_and_the_prometheus_rule_groups()
    {
        var (_, output, _) = ExternalTool.Run("promtool", ["check", "rules", MonitoredSeries.RulesFile]);
        Assert.Contains($"SUCCESS: {Required.Length} rules found", output);

        // The PrometheusRule's spec is a rule file; promtool checks it in that form.
        var spec = PrometheusRuleSpec();
        var extracted = Path.Combine(Path.GetTempPath(), $"popsteer-prometheusrule-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(extracted, new SerializerBuilder().Build().Serialize(spec));
        try
        {
            (_, output, _) = ExternalTool.Run("promtool", ["check", "rules", extracted]);
            Assert.Contains($"SUCCESS: {Required.Length} rules found", output);
        }
        finally
        {
            File.Delete(extracted);
        }
    }

    [Fact]
    public void The_rule_file_has_every_required_alert_and_the_prometheus_rule_carries_the_same_rules()
    {
        Assert.Equal(Required.Order(), MonitoredSeries.Alerts().Select(a => a.Alert).Order());
        var plain = new DeserializerBuilder().Build().Deserialize<object>(File.ReadAllText(MonitoredSeries.RulesFile));
        Assert.Equal(Canonical(plain), Canonical(PrometheusRuleSpec()));
    }

    private static object PrometheusRuleSpec()
    {
        var rule = new DeserializerBuilder().Build().Deserialize<Dictionary<object, object>>(File.ReadAllText(MonitoredSeries.PrometheusRuleFile));
        Assert.Equal("PrometheusRule", rule["kind"]);
        return rule["spec"];
    }

    private static string Canonical(object yaml) => RenderedManifests.ToJson(yaml)!.ToJsonString();
}
