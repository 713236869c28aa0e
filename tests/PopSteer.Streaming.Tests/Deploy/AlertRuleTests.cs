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

    [PromtoolFact]
    public void The_drift_alert_judges_the_divergence_above_its_sampling_noise_as_the_retrainer_does()
    {
        // Two Retrainers measure the same raw JS 0.5 against threshold 0.125: r1's live sample is so small that
        // sampling alone explains 0.4375 of it (no drift), r2's only 0.25 (drift of 0.25). Binary fractions: exact.
        var expr = MonitoredSeries.Alerts().Single(a => a.Alert == "PopSteerDriftWithoutRefit").Expr;
        string Series(string name, string instance, string value, string extra = "") =>
            $"      - series: '{name}{{instance=\"{instance}\"{extra}}}'\n        values: '{value}x30'\n";
        var input = string.Concat(new[] { ("r1", "0.4375"), ("r2", "0.25") }.Select(r =>
            Series("popsteer_retrainer_drift_js_divergence", r.Item1, "0.5") +
            Series("popsteer_retrainer_drift_js_noise", r.Item1, r.Item2) +
            Series("popsteer_retrainer_drift_threshold", r.Item1, "0.125") +
            Series("popsteer_retrainer_drift_head_overlap", r.Item1, "0.9") +
            Series("popsteer_retrainer_drift_min_head_overlap", r.Item1, "0.5") +
            Series("popsteer_retrainer_refits_total", r.Item1, "0", ",outcome=\"published\"")));
        const string expected = "{instance=\"r2\"}";
        var indented = string.Join("\n", expr.TrimEnd().Split('\n').Select(l => "          " + l));
        var test = $"""
            tests:
              - interval: 1m
                input_series:
            {input}
                promql_expr_test:
                  - eval_time: 20m
                    expr: |
            {indented}
                    exp_samples:
                      - labels: '{expected}'
                        value: 0.25
            """;
        var file = Path.Combine(Path.GetTempPath(), $"popsteer-drift-alert-test-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(file, test);
        try
        {
            var (exit, output, error) = ExternalTool.Run("promtool", ["test", "rules", file], check: false);
            Assert.True(exit == 0, $"promtool test rules failed:\n{output}\n{error}\n--- test file ---\n{test}");
        }
        finally
        {
            File.Delete(file);
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
