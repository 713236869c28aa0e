using System.Text.Json.Serialization;

namespace PopSteer.Streaming.Contracts;

/// <summary>Source-generated (reflection-free) JSON for the ingest-side contracts: camelCase, nulls omitted.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(InteractionEvent))]
[JsonSerializable(typeof(UserChanged))]
[JsonSerializable(typeof(DeadLetter))]
public sealed partial class StreamingJsonContext : JsonSerializerContext;
