using Polly.CircuitBreaker;
using PopSteer.Streaming.Resilience;

namespace PopSteer.Scorer;

/// <summary>
/// Bounds how often the loop retries a batch that keeps failing. Transient failures (Redis or Kafka unreachable,
/// an open circuit, a timeout) are not the batch's fault: they are retried without limit and never counted, so an
/// outage sets nothing aside. Any other failure counts; once <c>Scoring:MaxBatchAttempts</c> consecutive attempts
/// have failed, the next attempt isolates the poison (<see cref="Isolating"/>): users are scored one by one and
/// those that still fail are dead-lettered. A batch that succeeds resets the count. Loop thread only.
/// </summary>
public sealed class BatchFailurePolicy(int maxAttempts)
{
    private int _failures;

    /// <summary>Consecutive non-transient failures so far.</summary>
    public int Failures => _failures;

    /// <summary>True when the next attempt must score users one by one and dead-letter the ones that fail.</summary>
    public bool Isolating => _failures >= maxAttempts;

    public void Succeeded() => _failures = 0;

    /// <summary>Records a failed attempt; returns whether it was transient (and so not counted).</summary>
    public bool Failed(Exception e)
    {
        if (IsTransient(e)) return true;
        _failures++;
        return false;
    }

    /// <summary>True for failures that clear by themselves; a user's own data or the model never cause these.</summary>
    public static bool IsTransient(Exception e) => Unwrap(e) switch
    {
        BrokenCircuitException or OperationCanceledException or ObjectDisposedException => true,
        var inner => StreamingResilience.IsTransientRedis(inner) || StreamingResilience.IsTransientKafka(inner),
    };

    /// <summary>The one exception an await or Task.WhenAll stands for.</summary>
    public static Exception Unwrap(Exception e) => e is AggregateException { InnerExceptions.Count: 1 } a ? Unwrap(a.InnerExceptions[0]) : e;

    /// <summary>One line for a dead letter's reason: the exception type and message.</summary>
    public static string Describe(Exception e)
    {
        var inner = Unwrap(e);
        return $"{inner.GetType().Name}: {inner.Message}";
    }
}
