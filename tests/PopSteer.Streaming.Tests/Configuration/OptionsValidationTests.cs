using Microsoft.Extensions.Options;
using PopSteer.Ingest;
using PopSteer.Streaming.Tests.Infrastructure;

namespace PopSteer.Streaming.Tests.Configuration;

public sealed class OptionsValidationTests
{
    [Theory]
    [InlineData("Kafka:BootstrapServers", "")]
    [InlineData("Kafka:Topics:DeadLetter", "dead letters!")]
    [InlineData("Kafka:Topics:UsersChanged", "popsteer.interactions.same")]
    [InlineData("Redis:Configuration", "")]
    [InlineData("Redis:KeyPrefix", "pop{steer")]
    [InlineData("Sequences:MaxLength", "0")]
    [InlineData("Sequences:IdleTtl", "-00:00:01")]
    [InlineData("Resilience:Redis:MaxRetryAttempts", "0")]
    [InlineData("Resilience:Kafka:BreakerFailureRatio", "1.5")]
    [InlineData("Ingest:MaxBatchSize", "0")]
    [InlineData("Ingest:GroupId", "")]
    [InlineData("Ingest:MaxPayloadBytes", "10")]
    public async Task A_bad_setting_stops_the_host_with_a_message_naming_the_key(string key, string value)
    {
        var settings = new TestSettings("127.0.0.1:1", "127.0.0.1:1,abortConnect=false");
        if (key == "Kafka:Topics:UsersChanged") settings["Kafka:Topics:Interactions"] = value;
        settings[key] = value;

        var error = await Assert.ThrowsAnyAsync<Exception>(() => TestHost.StartAsync(settings, (s, c) => s.AddIngest(c)));

        var messages = error is AggregateException a ? a.InnerExceptions.Select(e => e.Message) : [error.Message];
        Assert.IsType<OptionsValidationException>(error is AggregateException agg ? agg.InnerExceptions[0] : error);
        Assert.Contains(messages, m => m.Contains(key, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Good_settings_start_and_stop_the_host()
    {
        using var redis = new RedisServerFixture();
        using var broker = new KafkaFixture();
        await using var host = await TestHost.StartAsync(new TestSettings(broker.BootstrapServers, redis.ConnectionString), (s, c) => s.AddIngest(c));
        Assert.NotNull(host.Services.GetService(typeof(IngestMetrics)));
    }
}
