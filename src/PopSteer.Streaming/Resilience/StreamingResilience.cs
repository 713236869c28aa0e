using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;
using PopSteer.Streaming.Configuration;
using StackExchange.Redis;

namespace PopSteer.Streaming.Resilience;

/// <summary>
/// The two Polly v8 pipelines every Redis and Kafka call goes through: retry (exponential backoff, jitter) around a
/// circuit breaker around a per-attempt timeout. Exhausted retries surface the exception; callers such as the
/// consumer loops then retry the same work later without committing, so nothing is dropped.
/// </summary>
public sealed class StreamingResilience
{
    public StreamingResilience(IOptions<ResilienceOptions> options, ILogger<StreamingResilience>? logger = null)
    {
        var log = (ILogger?)logger ?? NullLogger.Instance;
        Redis = Build("redis", options.Value.Redis, IsTransientRedis, log);
        Kafka = Build("kafka", options.Value.Kafka, IsTransientKafka, log);
    }

    /// <summary>For StackExchange.Redis calls (connection and timeout failures are retried).</summary>
    public ResiliencePipeline Redis { get; }

    /// <summary>For Kafka produce and admin calls (non-fatal Kafka errors are retried).</summary>
    public ResiliencePipeline Kafka { get; }

    public static bool IsTransientRedis(Exception e) => e is RedisConnectionException or RedisTimeoutException or TimeoutRejectedException
        or Sequences.ReplicaAcknowledgementException // replicas catching up (or reattaching) clears by itself
        // A write that reaches a replica or a loading server fails with a server error that clears by itself.
        || (e is RedisServerException s && (s.Message.StartsWith("LOADING", StringComparison.Ordinal)
            || s.Message.StartsWith("READONLY", StringComparison.Ordinal)
            || s.Message.StartsWith("TRYAGAIN", StringComparison.Ordinal)
            || s.Message.StartsWith("CLUSTERDOWN", StringComparison.Ordinal)
            || s.Message.StartsWith("MASTERDOWN", StringComparison.Ordinal)
            // maxmemory reached under noeviction (deploy/k8s): refused, not lost; clears when memory is freed or raised.
            || s.Message.StartsWith("OOM", StringComparison.Ordinal)));

    public static bool IsTransientKafka(Exception e) => e switch
    {
        TimeoutRejectedException => true,
        KafkaException k => !k.Error.IsFatal && k.Error.Code is not (ErrorCode.MsgSizeTooLarge
            or ErrorCode.TopicAuthorizationFailed or ErrorCode.ClusterAuthorizationFailed or ErrorCode.Local_InvalidArg
            or ErrorCode.InvalidConfig or ErrorCode.Local_Destroy),
        _ => false,
    };

    private static ResiliencePipeline Build(string name, RetryPipelineOptions o, Func<Exception, bool> transient, ILogger log)
    {
        var handled = new PredicateBuilder().Handle<Exception>(transient);
        return new ResiliencePipelineBuilder { Name = name }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(e => transient(e) || e is BrokenCircuitException),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                MaxRetryAttempts = o.MaxRetryAttempts,
                Delay = o.BaseDelay,
                MaxDelay = o.MaxDelay,
                OnRetry = args =>
                {
                    log.LogWarning("{Pipeline}: attempt {Attempt} failed ({Error}); retrying in {Delay} ms",
                        name, args.AttemptNumber + 1, args.Outcome.Exception?.Message, (int)args.RetryDelay.TotalMilliseconds);
                    return default;
                },
            })
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                ShouldHandle = handled,
                FailureRatio = o.BreakerFailureRatio,
                MinimumThroughput = o.BreakerMinimumThroughput,
                SamplingDuration = o.BreakerSamplingDuration,
                BreakDuration = o.BreakDuration,
                OnOpened = args =>
                {
                    log.LogError("{Pipeline}: circuit opened for {Duration} s", name, args.BreakDuration.TotalSeconds);
                    return default;
                },
                OnClosed = _ =>
                {
                    log.LogInformation("{Pipeline}: circuit closed", name);
                    return default;
                },
            })
            .AddTimeout(o.AttemptTimeout)
            .Build();
    }
}
