using Microsoft.Extensions.Options;
using PopSteer.Streaming.Tests.Infrastructure;

namespace PopSteer.Streaming.Tests.Scoring;

/// <summary>A bad setting stops the Scorer at start-up with a message that names the key (no broker or Redis needed).</summary>
public sealed class ScorerStartupTests : IDisposable
{
    private readonly ScratchDirectory _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Theory]
    [InlineData("Steering:Alpha", "-1", "Steering:Alpha")]
    [InlineData("Steering:Alpha", "NaN", "Steering:Alpha")]
    [InlineData("Steering:Alpha", "strong", "Steering:Alpha")]
    [InlineData("Steering:Neurons", "-5", "Steering:Neurons")]
    [InlineData("Scoring:MaxBatchSize", "0", "Scoring:MaxBatchSize")]
    [InlineData("Scoring:TopK", "0", "Scoring:TopK")]
    [InlineData("Scoring:Device", "tpu", "Scoring:Device")]
    [InlineData("Scoring:MaxBatchWait", "00:05:00", "Scoring:MaxBatchWait")]
    [InlineData("Metrics:Port", "70000", "Metrics:Port")]
    [InlineData("Scoring:MaxBatchAttempts", "0", "Scoring:MaxBatchAttempts")]
    [InlineData("Scoring:BatchesInFlight", "0", "Scoring:BatchesInFlight")]
    [InlineData("Scoring:ConcurrentBatches", "0", "Scoring:ConcurrentBatches")]
    [InlineData("Scoring:ConcurrentBatches", "9", "Scoring:ConcurrentBatches")]
    [InlineData("Registry:PublicKeyFile", "/nonexistent/popsteer-models.pub", "/nonexistent/popsteer-models.pub")]
    [InlineData("Registry:MaxVersionBytes", "10", "Registry:MaxVersionBytes")]
    public async Task A_bad_setting_stops_the_scorer_naming_the_key(string key, string value, string named)
    {
        var settings = new TestSettings("127.0.0.1:1", "127.0.0.1:1,abortConnect=false,connectTimeout=200");
        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var host = new ScorerTestHost(settings, _scratch.Sub("cache"), new Dictionary<string, string?> { [key] = value });
            await host.StartAsync();
        });
        Assert.Contains(named, error.Message);
    }
}
