using System.Text.Json;
using System.Text.Json.Serialization;

namespace PopSteer.Streaming.Contracts;

/// <summary>Source-generated JSON for the Scorer's and the registry's contracts (no reflection at run time).</summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    PropertyNameCaseInsensitive = true)]
[JsonSerializable(typeof(Recommendation))]
[JsonSerializable(typeof(ModelAnnouncement))]
public sealed partial class ScorerJsonContext : JsonSerializerContext
{
    public static byte[] Serialize(Recommendation value) => JsonSerializer.SerializeToUtf8Bytes(value, Default.Recommendation);

    public static byte[] Serialize(ModelAnnouncement value) => JsonSerializer.SerializeToUtf8Bytes(value, Default.ModelAnnouncement);

    /// <exception cref="JsonException">The bytes are not a valid recommendation.</exception>
    public static Recommendation DeserializeRecommendation(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize(json, Default.Recommendation) ?? throw new JsonException("A recommendation message was JSON null.");

    /// <exception cref="JsonException">The bytes are not a valid model announcement.</exception>
    public static ModelAnnouncement DeserializeModelAnnouncement(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize(json, Default.ModelAnnouncement) ?? throw new JsonException("A model announcement was JSON null.");
}
