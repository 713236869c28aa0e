using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.Options;

namespace PopSteer.Streaming.Observability;

/// <summary>
/// Follows every consumer the <see cref="Kafka.KafkaClientFactory"/> builds through librdkafka's statistics
/// callback: when its loop last polled, whether the group has assigned it partitions, and its lag (high watermark
/// minus committed offset, summed over its partitions). The liveness and readiness checks read it, and the watched
/// groups' lag and assignment are exported on the Meter "PopSteer.Kafka".
/// </summary>
public sealed class ConsumerLoopHealth : IDisposable
{
    public const string MeterName = "PopSteer.Kafka";

    private readonly ConcurrentDictionary<string, ConsumerLoopState> _groups = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly int _statisticsIntervalMs;
    private readonly Meter? _meter;

    public ConsumerLoopHealth(
        IEnumerable<WatchedConsumerGroup> watched,
        IOptions<HealthOptions> options,
        IMeterFactory? meterFactory = null,
        TimeProvider? time = null)
    {
        Watched = watched.ToArray();
        _time = time ?? TimeProvider.System;
        _statisticsIntervalMs = (int)options.Value.StatisticsInterval.TotalMilliseconds;
        if (meterFactory is null) return;
        _meter = meterFactory.Create(MeterName);
        _meter.CreateObservableGauge("popsteer.kafka.consumer.lag", () => Measure(s => s.Lag), "{message}",
            "Messages the consumer group has not committed yet on this instance's partitions (high watermark - committed).");
        _meter.CreateObservableGauge("popsteer.kafka.consumer.assigned_partitions", () => Measure(s => s.AssignedPartitions), "{partition}",
            "Partitions the group has assigned to this instance.");
    }

    /// <summary>The consumer loops this service reports on (registered per service).</summary>
    public IReadOnlyList<WatchedConsumerGroup> Watched { get; }

    /// <summary>The last report of the group's consumer in this process, or null before its first poll.</summary>
    public ConsumerLoopState? State(string groupId) => _groups.TryGetValue(groupId, out var state) ? state : null;

    /// <summary>Now, on the clock the checks use.</summary>
    public DateTimeOffset Now => _time.GetUtcNow();

    /// <summary>A consumer builder whose consumer reports here; used by the client factory for every consumer.</summary>
    public ConsumerBuilder<TKey, TValue> Builder<TKey, TValue>(ConsumerConfig config, string groupId)
    {
        config.StatisticsIntervalMs ??= _statisticsIntervalMs;
        return new ObservedConsumerBuilder<TKey, TValue>(config, json => Observe(groupId, json));
    }

    /// <summary>Records one librdkafka statistics report (JSON, see librdkafka's STATISTICS.md) of a consumer in <paramref name="groupId"/>.</summary>
    public void Observe(string groupId, string statistics)
    {
        string state = "unknown";
        int assigned = 0;
        long lag = 0;
        try
        {
            using var document = JsonDocument.Parse(statistics);
            var root = document.RootElement;
            if (root.TryGetProperty("cgrp", out var group))
            {
                if (group.TryGetProperty("state", out var s)) state = s.GetString() ?? state;
                if (group.TryGetProperty("assignment_size", out var a)) assigned = a.GetInt32();
            }
            if (root.TryGetProperty("topics", out var topics))
                foreach (var topic in topics.EnumerateObject())
                    if (topic.Value.TryGetProperty("partitions", out var partitions))
                        foreach (var partition in partitions.EnumerateObject())
                            // consumer_lag is -1 for partitions this consumer does not own (and the internal "-1" one).
                            if (partition.Value.TryGetProperty("consumer_lag", out var l) && l.GetInt64() is > 0 and var value)
                                lag += value;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            // A report we cannot read still proves the loop polled.
        }
        _groups[groupId] = new ConsumerLoopState(_time.GetUtcNow(), state, assigned, lag);
    }

    private IEnumerable<Measurement<long>> Measure(Func<ConsumerLoopState, long> value)
    {
        foreach (var watched in Watched)
            if (State(watched.GroupId) is { } state)
                yield return new Measurement<long>(value(state), new KeyValuePair<string, object?>("group", watched.GroupId));
    }

    public void Dispose() => _meter?.Dispose();

    /// <summary>Wraps whatever statistics handler the caller set, so the factory's observation never displaces it.</summary>
    private sealed class ObservedConsumerBuilder<TKey, TValue>(ConsumerConfig config, Action<string> observe) : ConsumerBuilder<TKey, TValue>(config)
    {
        public override IConsumer<TKey, TValue> Build()
        {
            var inner = StatisticsHandler;
            StatisticsHandler = (consumer, json) =>
            {
                observe(json);
                inner?.Invoke(consumer, json);
            };
            return base.Build();
        }
    }
}
