using System.Text.Json;
using Confluent.Kafka;
using PopSteer.Streaming.Contracts;
using PopSteer.Streaming.Sequences;

namespace PopSteer.Scorer;

/// <summary>
/// A consumed batch made ready to score: its signals parsed into one entry per user (the newest signal wins), the
/// ones that are not valid signals set apart for the dead-letter topic, and, on the batch path, the users' sequences
/// being read from Redis. The read is started here and awaited only when the batch is scored, so a batch read ahead
/// (<c>Scoring:ReadAhead</c>) has its Redis round trip run while the batch before it is scored.
/// </summary>
internal sealed class PreparedBatch
{
    private PreparedBatch(List<ConsumeResult<string, byte[]>> signals, List<UserSignal> users,
        List<(ConsumeResult<string, byte[]> Result, string Reason)> invalid, Dictionary<string, List<ConsumeResult<string, byte[]>>> signalsOf,
        Task<IReadOnlyList<UserSequence>>? read)
    {
        Signals = signals;
        Users = users;
        Invalid = invalid;
        SignalsOf = signalsOf;
        Read = read;
    }

    public List<ConsumeResult<string, byte[]>> Signals { get; }
    public List<UserSignal> Users { get; }
    public List<(ConsumeResult<string, byte[]> Result, string Reason)> Invalid { get; }

    /// <summary>Every signal of each user, to dead-letter them all if the user fails.</summary>
    public Dictionary<string, List<ConsumeResult<string, byte[]>>> SignalsOf { get; }

    /// <summary>The users' stored sequences, in <see cref="Users"/>' order; null when the batch is scored user by user.</summary>
    public Task<IReadOnlyList<UserSequence>>? Read { get; }

    /// <summary>Parses <paramref name="signals"/> and, when <paramref name="store"/> is given, starts reading the users' sequences.</summary>
    public static PreparedBatch Start(List<ConsumeResult<string, byte[]>> signals, SequenceStore? store)
    {
        var (users, invalid, signalsOf) = Distinct(signals);
        Task<IReadOnlyList<UserSequence>>? read = null;
        if (store is not null && users.Count > 0)
        {
            read = store.ReadManyAsync(users.Select(u => u.UserId).ToArray());
            // A read that is dropped (the batch rewound or re-prepared) must not surface as an unobserved exception.
            read.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
        else if (store is not null) read = Task.FromResult<IReadOnlyList<UserSequence>>([]);
        return new PreparedBatch(signals, users, invalid, signalsOf, read);
    }

    /// <summary>
    /// One entry per user (the newest signal wins, and names the trigger); signals that are not valid JSON go to the
    /// dead letter topic. <c>SignalsOf</c> keeps every signal of each user, to dead-letter them all if the user fails.
    /// </summary>
    private static (List<UserSignal> Users, List<(ConsumeResult<string, byte[]> Result, string Reason)> Invalid, Dictionary<string, List<ConsumeResult<string, byte[]>>> SignalsOf) Distinct(
        List<ConsumeResult<string, byte[]>> batch)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var users = new List<UserSignal>(batch.Count);
        var invalid = new List<(ConsumeResult<string, byte[]>, string)>();
        var signalsOf = new Dictionary<string, List<ConsumeResult<string, byte[]>>>(StringComparer.Ordinal);
        foreach (var result in batch)
        {
            UserChanged? signal;
            try
            {
                signal = result.Message.Value is { Length: > 0 } bytes
                    ? JsonSerializer.Deserialize(bytes, StreamingJsonContext.Default.UserChanged)
                    : null;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // JsonException mostly, but malformed text can surface as other exceptions (e.g. a lone surrogate): any
                // message that cannot be read is that message's problem, never the batch's.
                invalid.Add((result, $"Not a UserChanged signal: {e.Message}"));
                continue;
            }
            if (signal is null || string.IsNullOrEmpty(signal.UserId))
            {
                invalid.Add((result, "Not a UserChanged signal: empty payload or no userId."));
                continue;
            }
            var entry = new UserSignal(signal.UserId, signal.EventTimestamp, signal.EnqueuedAt, result.TopicPartitionOffset);
            if (index.TryGetValue(signal.UserId, out var at))
            {
                if (users[at].EnqueuedAt is null || (entry.EnqueuedAt ?? DateTimeOffset.MinValue) >= users[at].EnqueuedAt) users[at] = entry;
                signalsOf[signal.UserId].Add(result);
            }
            else
            {
                index[signal.UserId] = users.Count;
                users.Add(entry);
                signalsOf[signal.UserId] = [result];
            }
        }
        return (users, invalid, signalsOf);
    }
}
