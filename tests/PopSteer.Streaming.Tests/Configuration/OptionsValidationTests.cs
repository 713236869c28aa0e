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
    [InlineData("Ingest:MaxClockSkew", "-00:01:00")]
    [InlineData("Ingest:DeadLetterMaxPayloadBytes", "-1")]
    [InlineData("Redis:WaitReplicas", "-1")]
    // Keys the binder would silently ignore, leaving the default in force.
    [InlineData("Ingest:MaxBatchSise", "10")]
    [InlineData("Sequences:MaxLenght", "50")]
    [InlineData("Redis:Pasword", "secret")]
    [InlineData("Kafka:Topics:Interaction", "popsteer.other")]
    [InlineData("Resilience:Redis:MaxRetries", "3")]
    [InlineData("Sequences:MaxLength:Extra", "3")]
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

    [Theory]
    [InlineData("password=hunter2")] // no endpoint
    [InlineData("127.0.0.1:6379,password=hunter2,connectTimeout=soon")] // not parseable
    [InlineData("127.0.0.1:6379,connectTimeout=soon,Password = hunter2")]
    public async Task A_bad_redis_configuration_is_named_without_echoing_its_password(string configuration)
    {
        var settings = new TestSettings("127.0.0.1:1", configuration);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => TestHost.StartAsync(settings, (s, c) => s.AddIngest(c)));

        IEnumerable<string> all = error is AggregateException a ? a.InnerExceptions.Select(e => e.Message) : [error.Message];
        var messages = string.Join("\n", all);
        Assert.Contains("Redis:Configuration", messages, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", messages, StringComparison.Ordinal);
        Assert.Contains("***", messages, StringComparison.Ordinal);
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
