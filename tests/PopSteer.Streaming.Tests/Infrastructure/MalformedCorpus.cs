using System.Text;
using System.Text.Json;
using PopSteer.Streaming.Contracts;

namespace PopSteer.Streaming.Tests.Infrastructure;

/// <summary>Fixtures/malformed-interactions.json: a fixed corpus of malformed messages and the reason each must get.</summary>
public static class MalformedCorpus
{
    public sealed record Case(string Name, byte[]? Key, byte[] Payload, InvalidEventReason Expected)
    {
        public override string ToString() => Name;
    }

    public static IReadOnlyList<Case> Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "malformed-interactions.json");
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var cases = new List<Case>();
        foreach (var c in document.RootElement.GetProperty("cases").EnumerateArray())
        {
            var name = c.GetProperty("name").GetString()!;
            var key = c.GetProperty("key").ValueKind == JsonValueKind.Null ? null : Encoding.UTF8.GetBytes(c.GetProperty("key").GetString()!);
            var payload = c.TryGetProperty("payloadBase64", out var b64)
                ? Convert.FromBase64String(b64.GetString()!)
                : Encoding.UTF8.GetBytes(c.GetProperty("payload").GetString()!);
            if (c.TryGetProperty("padTo", out var padTo))
            {
                // Insert an extra (ignored) field so the payload stays valid JSON but exceeds the size limit.
                var text = Encoding.UTF8.GetString(payload);
                var padding = new string('x', Math.Max(0, padTo.GetInt32() - payload.Length - 12));
                payload = Encoding.UTF8.GetBytes(text[..^1] + ", \"pad\": \"" + padding + "\"}");
            }
            cases.Add(new Case(name, key, payload, Enum.Parse<InvalidEventReason>(c.GetProperty("expect").GetString()!)));
        }
        return cases;
    }

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var c in Load()) data.Add(c.Name);
        return data;
    }
}
