namespace PopSteer.Core.Model;

/// <summary>SASRec's shape and regularisation (METHOD.md section 2). Stored in the manifest so a directory rebuilds its own model.</summary>
public sealed record SasRecConfig
{
    /// <summary>Number of real items; the embedding table has ItemCount + 1 rows (row 0 = padding).</summary>
    public int ItemCount { get; init; }
    public int Dim { get; init; } = 64;
    public int Blocks { get; init; } = 2;
    public int Heads { get; init; } = 2;
    public int FeedForward { get; init; } = 256;
    public int MaxLength { get; init; } = 50;
    public double Dropout { get; init; } = 0.5;
    public double AttentionDropout { get; init; } = 0.5;
    public double LayerNormEps { get; init; } = 1e-12;

    public void Validate()
    {
        if (ItemCount < 1) throw new ArgumentOutOfRangeException(nameof(ItemCount), ItemCount, "SASRec needs at least one item.");
        if (Dim < 1 || Heads < 1 || Dim % Heads != 0)
            throw new ArgumentOutOfRangeException(nameof(Dim), Dim, $"Dim must be a positive multiple of Heads ({Heads}).");
        if (Blocks < 1) throw new ArgumentOutOfRangeException(nameof(Blocks), Blocks, "SASRec needs at least one block.");
        if (FeedForward < 1) throw new ArgumentOutOfRangeException(nameof(FeedForward), FeedForward, "must be positive");
        if (MaxLength < 1) throw new ArgumentOutOfRangeException(nameof(MaxLength), MaxLength, "must be positive");
        if (Dropout is < 0 or >= 1 || AttentionDropout is < 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(Dropout), Dropout, "dropout must lie in [0, 1)");
    }
}
