using System.Text.Json.Serialization;

namespace PopSteer.Streaming.Contracts;

/// <summary>Why an incoming message was dead-lettered; written as its name in JSON.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<InvalidEventReason>))]
public enum InvalidEventReason
{
    EmptyPayload,
    PayloadTooLarge,
    InvalidUtf8,
    MalformedJson,
    NotAnObject,
    DuplicateField,
    MissingField,
    WrongType,
    EmptyValue,
    ValueTooLong,
    ControlCharacters,
    UnsupportedSchemaVersion,
    InvalidTimestamp,
    TimestampOutOfRange,
    InvalidWeight,
    MissingKey,
    KeyMismatch,

    /// <summary>Valid UTF-8 and JSON, but a string escapes a lone surrogate ("\ud800x"): not Unicode text.</summary>
    InvalidUnicode,

    /// <summary>The validator itself failed on this message; the reason names the exception. Never stops the consumer.</summary>
    ValidationFailed,

    /// <summary>The Scorer could not score or publish this user after <c>Scoring:MaxBatchAttempts</c> attempts and alone (the reason says why).</summary>
    ScoringFailed,
}
