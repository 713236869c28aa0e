using PopSteer.Core.Model;

namespace PopSteer.Core.Storage;

/// <summary>
/// What a manifest may ask this process to allocate. Modules are built from the manifest's configuration before
/// their weights are read, so a forged or damaged manifest (ItemCount = 2^31, Width = 2^30) must be refused first:
/// every dimension has a ceiling, and the parameters a configuration implies must fit in the weight file that is
/// supposed to hold them (a file of B bytes holds at most B / 2 parameters even in half precision).
/// </summary>
public static class ModelSizeBounds
{
    /// <summary>Largest manifest.json read (the item list dominates: 10 M items of ~20 characters is ~250 MB).</summary>
    public const long MaxManifestBytes = 256L << 20;

    public const int MaxItems = 50_000_000;
    public const int MaxDim = 16_384;
    public const int MaxBlocks = 256;
    public const int MaxFeedForward = 1 << 20;
    public const int MaxSequenceLength = 1 << 20;
    public const int MaxSaeWidth = 1 << 24;

    /// <summary>Parameters (state-dict elements) of a SASRec with this configuration.</summary>
    public static long SasRecParameters(SasRecConfig c)
    {
        long d = c.Dim, ff = c.FeedForward;
        long perBlock = 4 * (d * d + d) + 2 * d   // attention: query, key, value, dense; its LayerNorm
                      + (d * ff + ff) + (ff * d + d) + 2 * d; // feed-forward: two linears; its LayerNorm
        return (c.ItemCount + 1L) * d + c.MaxLength * d + 2 * d + c.Blocks * perBlock;
    }

    /// <summary>Parameters of a TopK SAE with this configuration (encoder and decoder both [h, d], two biases).</summary>
    public static long SaeParameters(SaeConfig c) => 2L * c.Width * c.InputDim + c.Width + c.InputDim;

    /// <summary>Why this manifest's dimensions are refused, or null when they are within the ceilings.</summary>
    public static string? CheckDimensions(ModelManifest manifest)
    {
        var s = manifest.SasRec ?? new SasRecConfig();
        if (s.ItemCount is < 1 or > MaxItems) return $"SASRec item count {s.ItemCount} is outside 1..{MaxItems:N0}";
        if (s.Dim is < 1 or > MaxDim) return $"SASRec d = {s.Dim} is outside 1..{MaxDim:N0}";
        if (s.Blocks is < 1 or > MaxBlocks) return $"SASRec blocks = {s.Blocks} is outside 1..{MaxBlocks}";
        if (s.FeedForward is < 1 or > MaxFeedForward) return $"SASRec feed-forward = {s.FeedForward} is outside 1..{MaxFeedForward:N0}";
        if (s.MaxLength is < 1 or > MaxSequenceLength) return $"SASRec max length = {s.MaxLength} is outside 1..{MaxSequenceLength:N0}";
        var problem = Validated(s.Validate);
        if (problem is not null) return $"SASRec configuration: {problem}";
        if (manifest.Sae is { } sae)
        {
            if (sae.Width is < 1 or > MaxSaeWidth) return $"SAE width {sae.Width} is outside 1..{MaxSaeWidth:N0}";
            if (sae.InputDim != s.Dim) return $"SAE input {sae.InputDim} differs from SASRec's d = {s.Dim}";
            problem = Validated(sae.Validate);
            if (problem is not null) return $"SAE configuration: {problem}";
        }
        return null;
    }

    /// <summary>Why <paramref name="path"/> cannot hold <paramref name="parameters"/> parameters, or null when it can.</summary>
    public static string? CheckWeightFile(string path, long parameters)
    {
        var length = new FileInfo(path).Length;
        return parameters * 2 > length
            ? $"the manifest's configuration implies {parameters:N0} parameters, more than this {length:N0}-byte file can hold; refused before allocating"
            : null;
    }

    private static string? Validated(Action validate)
    {
        try
        {
            validate();
            return null;
        }
        catch (ArgumentOutOfRangeException e)
        {
            return e.Message;
        }
    }
}
