using StackExchange.Redis;

namespace PopSteer.Streaming.Sequences;

/// <summary>
/// Fewer replicas than Redis:WaitReplicas acknowledged a batch's writes within Redis:WaitTimeout. Transient: the batch
/// stays uncommitted and is applied again (idempotently) until enough replicas have it.
/// </summary>
public sealed class ReplicaAcknowledgementException(string message) : RedisException(message);
