using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using static PopSteer.Streaming.Contracts.InvalidEventReason;

namespace PopSteer.Streaming.Contracts;

/// <summary>
/// Turns the raw bytes of a popsteer.interactions message into an <see cref="InteractionEvent"/> or a precise reason
/// (which field, what is wrong with it). Unknown fields are ignored so producers can add fields ahead of consumers.
/// Parses with <see cref="JsonDocument"/> rather than the serializer so every failure is named, not a generic
/// JsonException.
/// </summary>
public sealed partial class InteractionEventValidator
{
    public const int DefaultMaxPayloadBytes = 16 * 1024;
    public const int MaxIdLength = 256;
    public const int MaxTypeLength = 64;

    // Event times outside this window are data errors (seconds sent as milliseconds, or the reverse).
    private static readonly DateTimeOffset Earliest = DateTimeOffset.UnixEpoch;
    private static readonly DateTimeOffset Latest = new(2200, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 16, AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow };

    public InteractionEventValidator(int maxPayloadBytes = DefaultMaxPayloadBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPayloadBytes, 64);
        MaxPayloadBytes = maxPayloadBytes;
    }

    public int MaxPayloadBytes { get; }

    // ISO-8601 must say which clock it is on: a trailing Z or an explicit offset.
    [GeneratedRegex(@"(Z|z|[+-]\d{2}:?\d{2})$")]
    private static partial Regex HasOffset();

    /// <param name="key">The Kafka message key; must be present and equal to userId (the topic is keyed by user).</param>
    /// <param name="value">The Kafka message value.</param>
    public InteractionValidationResult Validate(byte[]? key, byte[]? value) => Validate(key, value, key is not null);

    private InteractionValidationResult Validate(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, bool keyPresent)
    {
        if (value.IsEmpty)
            return Fail(EmptyPayload, "payload is empty (a tombstone or an empty message)");
        if (value.Length > MaxPayloadBytes)
            return Fail(PayloadTooLarge, $"payload is {value.Length} bytes, more than the {MaxPayloadBytes}-byte limit");
        try
        {
            _ = StrictUtf8.GetCharCount(value);
        }
        catch (DecoderFallbackException)
        {
            return Fail(InvalidUtf8, "payload is not valid UTF-8");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(value.ToArray(), DocumentOptions);
        }
        catch (JsonException e)
        {
            return Fail(MalformedJson, $"payload is not valid JSON: {e.Message}");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return Fail(NotAnObject, $"payload must be a JSON object, got {Describe(root.ValueKind)}");

            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in root.EnumerateObject())
                if (!names.Add(property.Name))
                    return Fail(DuplicateField, $"field '{property.Name}' appears more than once");

            if (!root.TryGetProperty("schemaVersion", out var versionElement))
                return Fail(MissingField, "schemaVersion is missing");
            if (versionElement.ValueKind != JsonValueKind.Number || !versionElement.TryGetInt32(out var version))
                return Fail(WrongType, $"schemaVersion must be an integer, got {Describe(versionElement)}");
            if (version != InteractionEvent.CurrentSchemaVersion)
                return Fail(UnsupportedSchemaVersion, $"schemaVersion {version} is not supported (this consumer reads {InteractionEvent.CurrentSchemaVersion})");

            if (RequiredId(root, "eventId", out var eventId) is { } eventIdFailure) return eventIdFailure;
            if (RequiredId(root, "userId", out var userId) is { } userIdFailure) return userIdFailure;
            if (RequiredId(root, "itemId", out var itemId) is { } itemIdFailure) return itemIdFailure;
            if (ReadTimestamp(root, out var timestamp) is { } timestampFailure) return timestampFailure;

            string? type = null;
            if (root.TryGetProperty("type", out var typeElement) && typeElement.ValueKind != JsonValueKind.Null)
            {
                if (typeElement.ValueKind != JsonValueKind.String)
                    return Fail(WrongType, $"type must be a string, got {Describe(typeElement)}");
                type = typeElement.GetString()!;
                if (type.Length > MaxTypeLength)
                    return Fail(ValueTooLong, $"type is {type.Length} characters, more than {MaxTypeLength}");
            }

            double? weight = null;
            if (root.TryGetProperty("weight", out var weightElement) && weightElement.ValueKind != JsonValueKind.Null)
            {
                if (weightElement.ValueKind != JsonValueKind.Number)
                    return Fail(WrongType, $"weight must be a number, got {Describe(weightElement)}");
                if (!weightElement.TryGetDouble(out var w) || !double.IsFinite(w))
                    return Fail(InvalidWeight, $"weight {weightElement.GetRawText()} is not a finite number");
                if (w < 0)
                    return Fail(InvalidWeight, $"weight must be non-negative, got {weightElement.GetRawText()}");
                weight = w;
            }

            if (!keyPresent)
                return Fail(MissingKey, $"message has no key; producers must key by userId ('{userId}') so a user's events stay in order");
            if (!key.SequenceEqual(Encoding.UTF8.GetBytes(userId)))
                return Fail(KeyMismatch, $"message key '{Encoding.UTF8.GetString(key)}' differs from userId '{userId}'");

            return InteractionValidationResult.Valid(new InteractionEvent
            {
                SchemaVersion = version,
                EventId = eventId,
                UserId = userId,
                ItemId = itemId,
                Timestamp = timestamp,
                Type = type,
                Weight = weight,
            });
        }
    }

    private static InteractionValidationResult? RequiredId(JsonElement root, string name, out string value)
    {
        value = "";
        if (!root.TryGetProperty(name, out var element))
            return Fail(MissingField, $"{name} is missing");
        if (element.ValueKind != JsonValueKind.String)
            return Fail(WrongType, $"{name} must be a string, got {Describe(element)}");
        value = element.GetString()!;
        if (string.IsNullOrWhiteSpace(value))
            return Fail(EmptyValue, $"{name} is empty");
        if (value.Length > MaxIdLength)
            return Fail(ValueTooLong, $"{name} is {value.Length} characters, more than {MaxIdLength}");
        if (value.Any(char.IsControl))
            return Fail(ControlCharacters, $"{name} contains control characters");
        return null;
    }

    private static InteractionValidationResult? ReadTimestamp(JsonElement root, out DateTimeOffset timestamp)
    {
        timestamp = default;
        if (!root.TryGetProperty("timestamp", out var element))
            return Fail(MissingField, "timestamp is missing");
        switch (element.ValueKind)
        {
            case JsonValueKind.Number:
                if (!element.TryGetInt64(out var ms))
                    return Fail(InvalidTimestamp, $"timestamp {element.GetRawText()} must be whole epoch milliseconds");
                if (ms < Earliest.ToUnixTimeMilliseconds() || ms >= Latest.ToUnixTimeMilliseconds())
                    return Fail(TimestampOutOfRange, $"timestamp {ms} ms is outside {Earliest:yyyy-MM-dd}..{Latest:yyyy-MM-dd} (seconds sent as milliseconds?)");
                timestamp = DateTimeOffset.FromUnixTimeMilliseconds(ms);
                return null;
            case JsonValueKind.String:
                var text = element.GetString()!;
                if (!element.TryGetDateTimeOffset(out var parsed))
                    return Fail(InvalidTimestamp, $"timestamp '{Truncate(text)}' is not ISO-8601");
                if (!HasOffset().IsMatch(text))
                    return Fail(InvalidTimestamp, $"timestamp '{Truncate(text)}' has no UTC offset (add Z or +hh:mm)");
                if (parsed < Earliest || parsed >= Latest)
                    return Fail(TimestampOutOfRange, $"timestamp '{Truncate(text)}' is outside {Earliest:yyyy-MM-dd}..{Latest:yyyy-MM-dd}");
                // Millisecond precision: what Redis stores, so a round trip is exact.
                timestamp = DateTimeOffset.FromUnixTimeMilliseconds(parsed.ToUnixTimeMilliseconds());
                return null;
            default:
                return Fail(WrongType, $"timestamp must be an ISO-8601 string or epoch milliseconds, got {Describe(element)}");
        }
    }

    private static InteractionValidationResult Fail(InvalidEventReason code, string reason) => InteractionValidationResult.Invalid(code, reason);

    private static string Describe(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String or JsonValueKind.Number => $"{Describe(element.ValueKind)} {Truncate(element.GetRawText())}",
        _ => Describe(element.ValueKind),
    };

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => kind.ToString(),
    };

    private static string Truncate(string text) => text.Length <= 40 ? text : text[..40] + "...";
}
