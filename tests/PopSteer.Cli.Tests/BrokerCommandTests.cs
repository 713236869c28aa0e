using PopSteer.Cli.Commands;

namespace PopSteer.Cli.Tests;

/// <summary>`popsteer broker --retain`: which topics the embedded broker trims, behind which consumer groups.</summary>
public sealed class BrokerCommandTests
{
    [Fact]
    public void The_services_defaults_trim_interactions_behind_ingest_and_the_retrainer_and_signals_behind_the_scorer()
    {
        var retention = BrokerCommand.Retention([], services: true).ToDictionary(t => t.Topic, t => t.Groups);
        Assert.Equal(["popsteer-ingest", "popsteer-retrainer"], retention["popsteer.interactions"]);
        Assert.Equal(["popsteer-scorer"], retention["popsteer.users.changed"]);
        // Recommendations are read by feeds the broker does not know: never trimmed unless named.
        Assert.False(retention.ContainsKey("popsteer.recommendations"));
    }

    [Fact]
    public void A_topic_named_twice_is_trimmed_behind_every_group_named_for_it()
    {
        var retention = BrokerCommand.Retention(["popsteer.recommendations=feed-a", "popsteer.interactions= audit , feed-b", "popsteer.recommendations=feed-c,feed-a"], services: true)
            .ToDictionary(t => t.Topic, t => t.Groups);
        Assert.Equal(["feed-a", "feed-c"], retention["popsteer.recommendations"]);
        Assert.Equal(["popsteer-ingest", "popsteer-retrainer", "audit", "feed-b"], retention["popsteer.interactions"]);
    }

    [Theory]
    [InlineData("popsteer.recommendations")]
    [InlineData("popsteer.recommendations=")]
    [InlineData("=feed")]
    [InlineData("popsteer.recommendations=, ,")]
    public async Task A_spec_without_a_topic_or_a_group_is_refused_with_its_form(string spec)
    {
        var error = Assert.Throws<FormatException>(() => BrokerCommand.Retention([spec], services: false));
        Assert.Contains("TOPIC=GROUP", error.Message);
        // The command refuses it before starting anything.
        Assert.Equal(2, await CliApp.RunAsync(["broker", "--retain", spec]));
    }
}
