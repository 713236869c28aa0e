using PopSteer.Core.Storage;

namespace PopSteer.Core.Training;

/// <summary>Every hyperparameter of `fit` and its stages, with METHOD.md's defaults. Recorded in the manifest.</summary>
public sealed record FitOptions
{
    public int Seed { get; init; } = 42;
    /// <summary>cpu, cuda or auto (<see cref="TorchRuntime.ResolveDevice"/>).</summary>
    public string Device { get; init; } = "cpu";

    // SASRec (section 2)
    public int MaxLength { get; init; } = 50;
    public int Dim { get; init; } = 64;
    public int Blocks { get; init; } = 2;
    public int Heads { get; init; } = 2;
    public int FeedForward { get; init; } = 256;
    public double Dropout { get; init; } = 0.5;
    public double LayerNormEps { get; init; } = 1e-12;
    public SasRecTrainingOptions SasRec { get; init; } = new();

    // SAE (section 3)
    public int SaeWidthMultiplier { get; init; } = 64;
    public int SaeK { get; init; } = 32;
    /// <summary>0 means 2 * Dim.</summary>
    public int SaeKAux { get; init; }
    public SaeTrainingOptions Sae { get; init; } = new();
    /// <summary>TrainSae continues from the directory's SAE (fresh optimiser state) instead of a new initialisation.</summary>
    public bool ResumeSae { get; init; }

    // Analysis (sections 4-5)
    public int AnalysisPrefixes { get; init; } = 100_000;
    // The 2026 variant (METHOD.md sections 4-5): measured against the 2025 one (Sample, 0.2) on both data sets here
    // (docs/results/*/variants.md): on Wikipedia it took PopSteer's validation gain from +0.0024 to +0.0626 (first of
    // five, outside the noise), on ML-100K the two are inside the noise of each other.
    public double GroupShare { get; init; } = 0.1;
    public SyntheticUserMode SyntheticUsers { get; init; } = SyntheticUserMode.NearestByEmbedding;

    public void Validate()
    {
        TorchRuntime.ResolveDevice(Device);
        new Model.SasRecConfig { ItemCount = 1, Dim = Dim, Blocks = Blocks, Heads = Heads, FeedForward = FeedForward, MaxLength = MaxLength, Dropout = Dropout, AttentionDropout = Dropout }.Validate();
        SasRec.Validate();
        Sae.Validate();
        if (SaeWidthMultiplier < 1) throw new ArgumentOutOfRangeException(nameof(SaeWidthMultiplier), SaeWidthMultiplier, "must be positive");
        if (SaeK < 1 || SaeK > SaeWidthMultiplier * Dim) throw new ArgumentOutOfRangeException(nameof(SaeK), SaeK, "must lie in 1..SAE width");
        if (SaeKAux < 0) throw new ArgumentOutOfRangeException(nameof(SaeKAux), SaeKAux, "must be >= 0");
        if (AnalysisPrefixes < 1) throw new ArgumentOutOfRangeException(nameof(AnalysisPrefixes), AnalysisPrefixes, "must be positive");
        if (GroupShare is <= 0 or >= 1 || double.IsNaN(GroupShare)) throw new ArgumentOutOfRangeException(nameof(GroupShare), GroupShare, "must lie in (0, 1)");
    }

    internal int WindowStride => SasRec.WindowStride == 0 ? Math.Max(1, MaxLength / 2) : Math.Min(SasRec.WindowStride, MaxLength);

    /// <summary>
    /// 8 hex digits of SHA-256 over the whole recipe (the record's text, nested options included): a model cache keyed
    /// on it is fitted anew when any default changes, instead of serving a model another recipe made.
    /// </summary>
    public string RecipeHash() =>
        Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(ToString())))[..8].ToLowerInvariant();
}
