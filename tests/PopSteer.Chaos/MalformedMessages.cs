using System.Text;
using System.Text.Json;

namespace PopSteer.Chaos;

/// <summary>
/// One kind of garbage on popsteer.interactions and the dead-letter code it must get (null: any code, as long as
/// it is dead-lettered with a reason). <see cref="PendingFix"/> names the change that makes it pass, while that change
/// is not merged; the short CI drill leaves those out until they are.
/// </summary>
public sealed record MalformedKind(string Name, byte[]? Key, byte[] Payload, string? ExpectedCode, string? PendingFix = null)
{
    public override string ToString() => Name;
}

/// <summary>
/// The burst: the Ingest tests' fixed corpus (Fixtures/malformed-interactions.json, 40 kinds) plus the kinds that
/// crashed or poisoned a service when the drill was first run (a 1 MB payload, far-future times, lone surrogates, ...).
/// </summary>
public static class MalformedMessages
{
    public const string User = "chaos-bad";

    public static IReadOnlyList<MalformedKind> All(string itemId)
    {
        var kinds = new List<MalformedKind>(FromFixture());
        byte[] key = Encoding.UTF8.GetBytes(User);
        kinds.Add(new("1 MB payload (valid JSON)", key, Pad(Event("\"2024-05-01T12:00:00Z\"", itemId), 1024 * 1024), "PayloadTooLarge",
            "ingest-hard: a dead letter must always fit (truncate the payload, keep length and SHA-256)"));
        kinds.Add(new("timestamp in 2100 (ISO)", key, Event("\"2100-01-01T00:00:00Z\"", itemId), "TimestampOutOfRange",
            "ingest-hard: bound event time relative to now"));
        kinds.Add(new("timestamp in 2150 (epoch ms)", key, Event(new DateTimeOffset(2150, 6, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds().ToString(), itemId),
            "TimestampOutOfRange", "ingest-hard: bound event time relative to now"));
        kinds.Add(new("timestamp in 1969 (ISO)", key, Event("\"1969-07-20T20:17:00Z\"", itemId), "TimestampOutOfRange"));
        kinds.Add(new("lone high surrogate in itemId \"\\ud800x\"", key, Raw($"{{\"schemaVersion\":1,\"eventId\":\"chaos-bad-s1\",\"userId\":\"{User}\",\"itemId\":\"\\ud800x\",\"timestamp\":\"2024-05-01T12:00:00Z\"}}"),
            null, "ingest-hard: any exception while validating must dead-letter the message"));
        kinds.Add(new("lone high surrogate in userId", key, Raw("{\"schemaVersion\":1,\"eventId\":\"chaos-bad-s2\",\"userId\":\"\\ud800x\",\"itemId\":\"i\",\"timestamp\":\"2024-05-01T12:00:00Z\"}"),
            null, "ingest-hard: any exception while validating must dead-letter the message"));
        kinds.Add(new("lone low surrogate in eventId", key, Raw($"{{\"schemaVersion\":1,\"eventId\":\"\\udc00\",\"userId\":\"{User}\",\"itemId\":\"i\",\"timestamp\":\"2024-05-01T12:00:00Z\"}}"),
            null, "ingest-hard: any exception while validating must dead-letter the message"));
        kinds.Add(new("nesting deeper than 16", key, Raw($"{{\"schemaVersion\":1,\"eventId\":\"e\",\"userId\":\"{User}\",\"itemId\":\"i\",\"timestamp\":\"2024-05-01T12:00:00Z\",\"x\":{new string('[', 40)}{new string(']', 40)}}}"),
            "MalformedJson"));
        kinds.Add(new("schemaVersion 0", key, Raw($"{{\"schemaVersion\":0,\"eventId\":\"e\",\"userId\":\"{User}\",\"itemId\":\"i\",\"timestamp\":\"2024-05-01T12:00:00Z\"}}"), "UnsupportedSchemaVersion"));
        kinds.Add(new("schemaVersion beyond int32", key, Raw($"{{\"schemaVersion\":99999999999,\"eventId\":\"e\",\"userId\":\"{User}\",\"itemId\":\"i\",\"timestamp\":\"2024-05-01T12:00:00Z\"}}"), "WrongType"));
        kinds.Add(new("key is invalid UTF-8", [0xC3, 0x28], Event("\"2024-05-01T12:00:00Z\"", itemId), "KeyMismatch"));
        kinds.Add(new("overlong UTF-8 (C0 AF) in itemId", key, [.. Raw($"{{\"schemaVersion\":1,\"eventId\":\"e\",\"userId\":\"{User}\",\"itemId\":\""), 0xC0, 0xAF, .. Raw("\",\"timestamp\":1714564800000}")], "InvalidUtf8"));
        kinds.Add(new("UTF-16 encoded payload", key, Encoding.Unicode.GetBytes(Encoding.UTF8.GetString(Event("\"2024-05-01T12:00:00Z\"", itemId))), null));
        return kinds;
    }

    private static byte[] Raw(string text) => Encoding.UTF8.GetBytes(text);

    private static byte[] Event(string timestampJson, string itemId) =>
        Raw($"{{\"schemaVersion\":1,\"eventId\":\"chaos-bad-{Guid.NewGuid():N}\",\"userId\":\"{User}\",\"itemId\":\"{itemId}\",\"timestamp\":{timestampJson}}}");

    /// <summary>Inserts an ignored field so the payload stays valid JSON of exactly <paramref name="size"/> bytes.</summary>
    private static byte[] Pad(byte[] payload, int size)
    {
        var text = Encoding.UTF8.GetString(payload);
        var head = text[..^1] + ",\"pad\":\"";
        return Raw(head + new string('x', size - head.Length - 2) + "\"}");
    }

    private static IEnumerable<MalformedKind> FromFixture()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "malformed-interactions.json");
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        foreach (var c in document.RootElement.GetProperty("cases").EnumerateArray())
        {
            var key = c.GetProperty("key").ValueKind == JsonValueKind.Null ? null : Raw(c.GetProperty("key").GetString()!);
            var payload = c.TryGetProperty("payloadBase64", out var b64) ? Convert.FromBase64String(b64.GetString()!) : Raw(c.GetProperty("payload").GetString()!);
            if (c.TryGetProperty("padTo", out var padTo)) payload = Pad(payload, padTo.GetInt32());
            yield return new MalformedKind(c.GetProperty("name").GetString()!, key, payload, c.GetProperty("expect").GetString());
        }
    }
}
