using System.Text.Json;
using System.Text.Json.Serialization;

namespace PopSteer.Streaming.Contracts;

/// <summary>Reads ISO-8601 strings or epoch-millisecond numbers; writes ISO-8601 in UTC.</summary>
public sealed class EventTimestampConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType switch
        {
            JsonTokenType.Number when reader.TryGetInt64(out var ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms),
            JsonTokenType.String when reader.TryGetDateTimeOffset(out var t) => t,
            _ => throw new JsonException("timestamp must be an ISO-8601 string or epoch milliseconds"),
        };

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToUniversalTime());
}
