using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using PopSteer.Streaming.Contracts;

namespace PopSteer.Scorer;

/// <summary>
/// Builds the Scorer's dead letters so that they always fit a Kafka message: an original value longer than
/// <c>Scoring:DeadLetterMaxPayloadBytes</c> is cut there, and the reason then states its full length and SHA-256 so
/// it can still be matched against the source; keys and reasons are bounded too. A dead letter that itself
/// outgrew the broker's limit would fail the batch it was meant to unblock.
/// </summary>
public static class ScorerDeadLetters
{
    public const string Source = "scorer";
    public const int MaxKeyBytes = 1024;
    public const int MaxReasonLength = 2000;

    public static Message<string, byte[]> For(ConsumeResult<string, byte[]> result, InvalidEventReason code, string reason, int maxPayloadBytes)
    {
        var original = result.Message.Value ?? [];
        var key = result.Message.Key;
        var keyBytes = key is null ? null : Encoding.UTF8.GetBytes(key);
        if (reason.Length > MaxReasonLength) reason = reason[..MaxReasonLength] + "…";
        if (original.Length > maxPayloadBytes)
        {
            reason += string.Create(CultureInfo.InvariantCulture,
                $" [original value truncated to its first {maxPayloadBytes:N0} of {original.Length:N0} bytes; full SHA-256 {Convert.ToHexStringLower(SHA256.HashData(original))}]");
            original = original[..maxPayloadBytes];
        }
        if (keyBytes is { Length: > MaxKeyBytes })
        {
            reason += string.Create(CultureInfo.InvariantCulture,
                $" [original key truncated to its first {MaxKeyBytes:N0} of {keyBytes.Length:N0} bytes; full SHA-256 {Convert.ToHexStringLower(SHA256.HashData(keyBytes))}]");
            keyBytes = keyBytes[..MaxKeyBytes];
            key = Encoding.UTF8.GetString(keyBytes);
        }
        var letter = new DeadLetter
        {
            Code = code,
            Reason = reason,
            Topic = result.Topic,
            Partition = result.Partition.Value,
            Offset = result.Offset.Value,
            OriginalKey = keyBytes,
            Original = original,
            Source = Source,
            FailedAt = DateTimeOffset.UtcNow,
        };
        return new Message<string, byte[]> { Key = key!, Value = JsonSerializer.SerializeToUtf8Bytes(letter, StreamingJsonContext.Default.DeadLetter) };
    }
}
