using PopSteer.Cli.Demo;

namespace PopSteer.Cli.Tests;

public class AlphaScheduleTests
{
    [Fact]
    public void Steps_apply_from_their_second_in_time_order_whatever_the_written_order()
    {
        var schedule = AlphaSchedule.Parse("60:3, 0:0 ,30:1.5");
        Assert.Equal(0, schedule.AlphaAt(TimeSpan.Zero, initial: 9));
        Assert.Equal(0, schedule.AlphaAt(TimeSpan.FromSeconds(29.9), initial: 9));
        Assert.Equal(1.5, schedule.AlphaAt(TimeSpan.FromSeconds(30), initial: 9));
        Assert.Equal(3, schedule.AlphaAt(TimeSpan.FromSeconds(600), initial: 9));
    }

    [Fact]
    public void Before_the_first_step_the_initial_alpha_holds()
    {
        var schedule = AlphaSchedule.Parse("10:2");
        Assert.Equal(1.5, schedule.AlphaAt(TimeSpan.FromSeconds(5), initial: 1.5));
        Assert.Equal(2, schedule.AlphaAt(TimeSpan.FromSeconds(10), initial: 1.5));
    }

    [Theory]
    [InlineData("")]
    [InlineData("0:-1")]
    [InlineData("-5:1")]
    [InlineData("0:NaN")]
    [InlineData("abc")]
    [InlineData("0:1:2")]
    public void Malformed_or_negative_steps_are_refused_with_the_flag_named(string text)
    {
        var e = Assert.Throws<ArgumentException>(() => AlphaSchedule.Parse(text));
        Assert.Contains("--alpha-schedule", e.Message);
    }
}
