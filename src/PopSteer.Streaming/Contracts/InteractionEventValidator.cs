using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using static PopSteer.Streaming.Contracts.InvalidEventReason;

namespace PopSteer.Streaming.Contracts;

/// <summary>
/// Turns the raw bytes of a popsteer.interactions message into an <see cref="InteractionEvent"/> or a precise reason
/// (which field, what is wrong with it). Unknown fields are ignored so producers can add fields ahead of consumers.
/// Parses with <see cref="JsonDocument"/> rather than the serializer so every failure is named, not a generic
/// JsonException. It never throws for any input: whatever slips past the named checks becomes
/// <see cref="InvalidEventReason.ValidationFailed"/>, so one message can never stop a consumer.
/// </summary>
public sealed partial class InteractionEventValidator
{
    public const int DefaultMaxPayloadBytes = 16 * 1024;
    public const int MaxIdLength = 256;
    public const int MaxTypeLength = 64;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 16, AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow };

    private readonly EventTimeWindow _window;
    private readonly TimeProvider _clock;

    /// <param name="maxPayloadBytes">Larger payloads are refused unread.</param>
    /// <param name="window">Believable event times relative to now; <see cref="EventTimeWindow.Default"/> when null.</param>
    /// <param name="clock">"Now" for the time window; the system clock when null.</param>
    public InteractionEventValidator(int maxPayloadBytes = DefaultMaxPayloadBytes, EventTimeWindow? window = null, TimeProvider? clock = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPayloadBytes, 64);
        MaxPayloadBytes = maxPayloadBytes;
        _window = window ?? EventTimeWindow.Default;
        _clock = clock ?? TimeProvider.System;
    }

    public int MaxPayloadBytes { get; }

    // ISO-8601 must say which clock it is on: a trailing Z or an explicit offset.
    [GeneratedRegex(@"(Z|z|[+-]\d{2}:?\d{2})$")]
    private static partial Regex HasOffset();

    /// <param name="key">The Kafka message key; must be present and equal to userId (the topic is keyed by user).</param>
    /// <param name="value">The Kafka message value.</param>
    public InteractionValidationResult Validate(byte[]? key, byte[]? value)
    {
        try
        {
            return Validate(key, value, key is not null);
        }
        catch (Exception e)
        {
            // A check this validator does not know yet: the message is refused, the consumer goes on.
            return Fail(ValidationFailed, $"payload could not be validated ({e.GetType().Name}: {Truncate(e.Message, 200)})");
        }
    }

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
            {
                if (!TryGetName(property, out var name))
                    return Fail(InvalidUnicode, $"a field name contains an escaped lone surrogate ({Truncate(property.Value.GetRawText())}), which is not Unicode text");
                if (!names.Add(name))
                    return Fail(DuplicateField, $"field '{Truncate(name)}' appears more than once");
            }

            if (!root.TryGetProperty("schemaVersion", out var versionElement))
                return Fail(MissingField, "schemaVersion is missing");
            if (versionElement.ValueKind != JsonValueKind.Number || !versionElement.TryGetInt32(out var version))
                return Fail(WrongType, $"schemaVersion must be an integer, got {Describe(versionElement)}");
            if (version != InteractionEvent.CurrentSchemaVersion)
                return Fail(UnsupportedSchemaVersion, $"schemaVersion {version} is not supported (this consumer reads {InteractionEvent.CurrentSchemaVersion})");

            if (RequiredId(root, "eventId", out var eventId) is { } eventIdFailure) return eventIdFailure;
            if (RequiredId(root, "userId", out var userId) is { } userIdFailure) return userIdFailure;
            if (RequiredId(root, "itemId", out var itemId) is { } itemIdFailure) return itemIdFailure;
            if (ReadTimestamp(root, _window, _clock.GetUtcNow(), out var timestamp) is { } timestampFailure) return timestampFailure;

            string? type = null;
            if (root.TryGetProperty("type", out var typeElement) && typeElement.ValueKind != JsonValueKind.Null)
            {
                if (typeElement.ValueKind != JsonValueKind.String)
                    return Fail(WrongType, $"type must be a string, got {Describe(typeElement)}");
                if (!TryGetString(typeElement, out type))
                    return Fail(InvalidUnicode, "type contains an escaped lone surrogate, which is not Unicode text");
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
                return Fail(KeyMismatch, $"message key '{Truncate(Encoding.UTF8.GetString(key))}' ({key.Length} bytes) differs from userId '{userId}'");

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
        if (!TryGetString(element, out value))
            return Fail(InvalidUnicode, $"{name} contains an escaped lone surrogate (e.g. \\ud800 without its pair), which is not Unicode text");
        if (string.IsNullOrWhiteSpace(value))
            return Fail(EmptyValue, $"{name} is empty");
        if (value.Length > MaxIdLength)
            return Fail(ValueTooLong, $"{name} is {value.Length} characters, more than {MaxIdLength}");
        if (value.Any(char.IsControl))
            return Fail(ControlCharacters, $"{name} contains control characters");
        return null;
    }

    private static InteractionValidationResult? ReadTimestamp(JsonElement root, EventTimeWindow window, DateTimeOffset now, out DateTimeOffset timestamp)
    {
        timestamp = default;
        if (!root.TryGetProperty("timestamp", out var element))
            return Fail(MissingField, "timestamp is missing");
        string shown;
        switch (element.ValueKind)
        {
            case JsonValueKind.Number:
                if (!element.TryGetInt64(out var ms))
                    return Fail(InvalidTimestamp, $"timestamp {Truncate(element.GetRawText())} must be whole epoch milliseconds");
                shown = $"{ms} ms";
                // Compared as numbers first: FromUnixTimeMilliseconds throws beyond year 9999.
                if (ms < EventTimeWindow.Floor.ToUnixTimeMilliseconds())
                    return Fail(TimestampOutOfRange, $"timestamp {shown} is before {EventTimeWindow.Floor:yyyy-MM-dd} (seconds sent as milliseconds?)");
                if (ms > (now + window.MaxFutureSkew).ToUnixTimeMilliseconds())
                    return FutureFailure(shown, window, ms > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds() ? null : DateTimeOffset.FromUnixTimeMilliseconds(ms), now);
                timestamp = DateTimeOffset.FromUnixTimeMilliseconds(ms);
                break;
            case JsonValueKind.String:
                if (!TryGetString(element, out var text))
                    return Fail(InvalidUnicode, "timestamp contains an escaped lone surrogate, which is not Unicode text");
                shown = $"'{Truncate(text)}'";
                if (!element.TryGetDateTimeOffset(out var parsed))
                    return Fail(InvalidTimestamp, $"timestamp {shown} is not ISO-8601");
                if (!HasOffset().IsMatch(text))
                    return Fail(InvalidTimestamp, $"timestamp {shown} has no UTC offset (add Z or +hh:mm)");
                if (parsed < EventTimeWindow.Floor)
                    return Fail(TimestampOutOfRange, $"timestamp {shown} is before {EventTimeWindow.Floor:yyyy-MM-dd}");
                if (parsed > now + window.MaxFutureSkew)
                    return FutureFailure(shown, window, parsed, now);
                // Millisecond precision: what Redis stores, so a round trip is exact.
                timestamp = DateTimeOffset.FromUnixTimeMilliseconds(parsed.ToUnixTimeMilliseconds());
                break;
            default:
                return Fail(WrongType, $"timestamp must be an ISO-8601 string or epoch milliseconds, got {Describe(element)}");
        }
        if (window.MaxAge is { } maxAge && timestamp < now - maxAge)
            return Fail(TimestampOutOfRange, $"timestamp {shown} is {Span(now - timestamp)} before now, older than the {maxAge} allowed (Ingest:MaxEventAge)");
        return null;
    }

    private static InteractionValidationResult FutureFailure(string shown, EventTimeWindow window, DateTimeOffset? at, DateTimeOffset now) =>
        Fail(TimestampOutOfRange, $"timestamp {shown} is {(at is { } t ? Span(t - now) : "far")} ahead of now ({now:yyyy-MM-ddTHH:mm:ssZ}), more than the {window.MaxFutureSkew} clock skew allowed (Ingest:MaxClockSkew)");

    private static string Span(TimeSpan span) => span.TotalDays >= 2 ? $"{span.TotalDays:0} days" : span.TotalHours >= 2 ? $"{span.TotalHours:0} hours" : $"{span.TotalSeconds:0} s";

    // GetString/Name throw InvalidOperationException for an escaped lone surrogate ("\ud800x"): the bytes are valid
    // UTF-8 and valid JSON, but the text they escape is not Unicode.
    private static bool TryGetString(JsonElement element, out string value)
    {
        try
        {
            value = element.GetString()!;
            return true;
        }
        catch (InvalidOperationException)
        {
            value = "";
            return false;
        }
    }

    private static bool TryGetName(JsonProperty property, out string name)
    {
        try
        {
            name = property.Name;
            return true;
        }
        catch (InvalidOperationException)
        {
            name = "";
            return false;
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

    private static string Truncate(string text, int length = 40) => text.Length <= length ? text : text[..length] + "...";
}
