using System.Globalization;
using System.Net;
using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PopSteer.Core.Testing;
using PopSteer.Ingest;
using PopSteer.Streaming.Contracts;
using PopSteer.Streaming.DependencyInjection;
using PopSteer.Streaming.Kafka;
using PopSteer.Streaming.Registry;
using PopSteer.Streaming.Tests.Infrastructure;
using PopSteer.Streaming.Tests.Retraining;
using PopSteer.Streaming.Tests.Scoring;

namespace PopSteer.Streaming.Tests.Observability;

/// <summary>
/// /healthz and /readyz served on the metrics port by the real services (AddScorer, AddIngest + AddPopSteerMetrics,
/// as their Program.cs wire them) against a real redis-server and the mock Kafka cluster over TCP, probed over HTTP as
/// the kubelet does. In the Retrainer-hosts collection: no other metrics test runs beside them.
/// </summary>
[Collection(RetrainerHostsCollection.Name)]
public sealed class HealthEndpointTests(RedisServerFixture redis, KafkaFixture kafka)
    : IClassFixture<RedisServerFixture>, IClassFixture<KafkaFixture>, IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly ScratchDirectory _scratch = new();

    public void Dispose() => _scratch.Dispose();

    private TestSettings Settings(int port)
    {
        var settings = new TestSettings(kafka.BootstrapServers, redis.ConnectionString);
        settings["Metrics:Port"] = port.ToString(CultureInfo.InvariantCulture);
        settings["Health:StatisticsInterval"] = "00:00:00.200";
        settings["Health:StallTimeout"] = "00:00:05";
        settings["Health:CheckTimeout"] = "00:00:01";
        return settings;
    }

    [Fact]
    public async Task The_scorer_is_ready_only_once_a_model_is_loaded_and_not_while_redis_is_down()
    {
        var port = FreePort.Next();
        var settings = Settings(port);
        // The topic exists before the Scorer starts, as the topics Job makes sure in Kubernetes.
        await ScorerTestHost.SignalAsync(settings.BootstrapServers, settings.UsersChangedTopic,
            [new UserChanged { UserId = "nobody", LastEventId = "e0", LastItemId = "i0", EventTimestamp = DateTimeOffset.UtcNow, EnqueuedAt = DateTimeOffset.UtcNow }]);
        await using var scorer = new ScorerTestHost(settings, _scratch.Sub("cache"));
        await scorer.StartAsync();
        using var probe = new HealthProbe(port);

        // No model in the registry: alive (waiting is not a hang), but not ready, and the body says why.
        var (status, body) = await probe.ReadyAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("scorer-model: Unhealthy", body);
        Assert.Contains("redis: Healthy", body);
        Assert.Equal(HttpStatusCode.OK, (await probe.LiveAsync()).Status);
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await probe.ReadyAsync()).Status);

        var dir = _scratch.Sub("model");
        TinyModelFactory.Create(dir, items: 30, seed: 3);
        await using (var services = new ServiceCollection().AddLogging().AddPopSteerStreamingForTests(settings).BuildServiceProvider())
            await services.GetRequiredService<ModelRegistry>().PublishAsync(dir);
        await Eventually.Until(async () => (await probe.ReadyAsync()).Status == HttpStatusCode.OK, Patience, () => "never ready after the model was published");
        body = (await probe.ReadyAsync()).Body;
        Assert.Contains("scorer-model: Healthy", body);
        Assert.Contains("scorer-kafka: Healthy", body);

        redis.Stop();
        try
        {
            await Eventually.Until(async () => (await probe.ReadyAsync()).Status == HttpStatusCode.ServiceUnavailable, Patience, () => "still ready with Redis down");
            Assert.Contains("redis: Unhealthy", (await probe.ReadyAsync()).Body);
            // Redis down is not the Scorer's hang: it stays alive, so Kubernetes does not restart it for nothing.
            Assert.Equal(HttpStatusCode.OK, (await probe.LiveAsync()).Status);
        }
        finally
        {
            redis.Start();
        }
        await Eventually.Until(async () => (await probe.ReadyAsync()).Status == HttpStatusCode.OK, Patience, () => "not ready again after Redis came back");
        Assert.Equal(HttpStatusCode.NotFound, (await probe.GetAsync("/nothing")).Status);
        // The Prometheus exporter still owns /metrics on the same port, including the new readiness gauge.
        await Eventually.Until(async () => System.Text.RegularExpressions.Regex.IsMatch((await probe.GetAsync("/metrics")).Body, @"(?m)^popsteer_scorer_model_loaded(\{[^}]*\})? 1"),
            Patience, () => "popsteer_scorer_model_loaded is not 1 on /metrics");
    }

    [Fact]
    public async Task An_idle_ingest_loop_stays_alive_and_ready_past_the_stall_timeout()
    {
        var port = FreePort.Next();
        var settings = Settings(port);
        await KafkaTestClient.ProduceEventsAsync(settings.BootstrapServers, settings.InteractionsTopic, TestEvents.Generate(users: 1, items: 3, count: 1, seed: 1));
        await using var ingest = await TestHost.StartAsync(settings, (s, c) => s.AddIngest(c).AddPopSteerMetrics(c, "popsteer-ingest"));
        using var probe = new HealthProbe(port);
        await Eventually.Until(async () => (await probe.ReadyAsync()).Status == HttpStatusCode.OK, Patience, () => "ingest never ready");
        var metrics = ingest.Services.GetRequiredService<IngestMetrics>();
        await Eventually.Until(() => metrics.Batches >= 1, Patience, () => "the one message was not handled");

        // Nothing more arrives for longer than Health:StallTimeout (5 s): the loop waits in Consume, polling, so it is alive.
        await Task.Delay(TimeSpan.FromSeconds(7));
        var (status, body) = await probe.LiveAsync();
        Assert.True(status == HttpStatusCode.OK, body);
        Assert.Contains("ingest-loop: Healthy", body);
        Assert.Equal(HttpStatusCode.OK, (await probe.ReadyAsync()).Status);
    }

    [Fact]
    public async Task A_loop_that_stops_polling_fails_liveness_and_recovers_when_it_polls_again()
    {
        var port = FreePort.Next();
        var settings = Settings(port);
        var gate = new ManualResetEventSlim(initialState: true);
        await KafkaTestClient.ProduceEventsAsync(settings.BootstrapServers, settings.InteractionsTopic, TestEvents.Generate(users: 1, items: 3, count: 1, seed: 1));
        await using var host = await TestHost.StartAsync(settings, (s, c) =>
        {
            s.AddPopSteerStreaming(c);
            s.AddPopSteerHealth(c).AddConsumerLoop("stub", _ => "stub-group");
            s.AddHostedService(sp => new GatedLoop(sp.GetRequiredService<KafkaClientFactory>(), settings.InteractionsTopic, gate));
            s.AddPopSteerMetrics(c, "popsteer-health-test");
        });
        using var probe = new HealthProbe(port);
        await Eventually.Until(async () => (await probe.LiveAsync()).Body.Contains("stub-loop: Healthy - stub loop polled", StringComparison.Ordinal), Patience, () => "the loop never reported");

        gate.Reset(); // the loop now blocks between polls, as one stuck inside a batch does
        await Eventually.Until(async () => (await probe.LiveAsync()).Status == HttpStatusCode.ServiceUnavailable, Patience, () => "a loop that stopped polling is still alive");
        Assert.Contains("stub-loop: Unhealthy - stub loop has not polled Kafka for", (await probe.LiveAsync()).Body);

        gate.Set();
        await Eventually.Until(async () => (await probe.LiveAsync()).Status == HttpStatusCode.OK, Patience, () => "not alive again after polling resumed");
    }

    /// <summary>A consumer loop whose polling the test can stop: it waits on the gate between polls.</summary>
    private sealed class GatedLoop(KafkaClientFactory kafka, string topic, ManualResetEventSlim gate) : BackgroundService
    {
        protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.Factory.StartNew(() =>
        {
            using var consumer = kafka.CreateConsumer("stub-group");
            consumer.Subscribe(topic);
            while (!stoppingToken.IsCancellationRequested)
            {
                gate.Wait(stoppingToken);
                try
                {
                    consumer.Consume(TimeSpan.FromMilliseconds(100));
                }
                catch (ConsumeException)
                {
                    // As the services do: a consume error is logged there and the loop goes on.
                }
            }
            consumer.Close();
        }, stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default).ContinueWith(_ => { }, TaskScheduler.Default);
    }
}
