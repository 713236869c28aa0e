namespace PopSteer.Streaming.Tests;

public class TopicsTests
{
    [Fact]
    public void Default_topics_are_distinct()
    {
        var names = new[] { Topics.Interactions, Topics.UsersChanged, Topics.Recommendations, Topics.DeadLetter, Topics.Models };
        Assert.Equal(names.Length, names.Distinct().Count());
    }
}
