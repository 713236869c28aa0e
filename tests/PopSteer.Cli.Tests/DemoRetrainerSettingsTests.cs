using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PopSteer.Cli.Demo;
using PopSteer.Retrainer;

namespace PopSteer.Cli.Tests;

public class DemoRetrainerSettingsTests
{
    /// <summary>
    /// The load run paces the demo at 100% of its flood rate (2,372 events/s in one run): the half-life derived from the
    /// rate fell below the Retrainer's 1 s minimum and the demo stopped on its own settings. Every rate must give settings
    /// the Retrainer accepts.
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(50)]
    [InlineData(589)]
    [InlineData(2372)]
    [InlineData(100_000)]
    public void The_demo_s_retrainer_settings_pass_the_retrainer_s_own_validation_at_any_rate(double rate)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(DemoRetrainerSettings.For(new DemoOptions { Rate = rate }))
            .Build();
        using var services = new ServiceCollection()
            .AddOptions<RetrainerOptions>().Bind(configuration.GetSection(RetrainerOptions.SectionName)).ValidateDataAnnotations().Services
            .BuildServiceProvider();
        var options = services.GetRequiredService<IOptions<RetrainerOptions>>().Value; // throws OptionsValidationException when refused
        Assert.True(options.PopularityHalfLife >= TimeSpan.FromSeconds(1), $"half-life {options.PopularityHalfLife} at {rate} events/s");
    }
}
