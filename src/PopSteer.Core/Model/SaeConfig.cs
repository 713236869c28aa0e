namespace PopSteer.Core.Model;

/// <summary>TopK SAE shape (METHOD.md section 3): Width = 64 * d latents, K = 32 active, KAux = 2 d for dead latents.</summary>
public sealed record SaeConfig
{
    public int InputDim { get; init; } = 64;
    public int Width { get; init; } = 4096;
    public int K { get; init; } = 32;
    public int KAux { get; init; } = 128;

    public static SaeConfig ForDim(int dim, int multiplier = 64, int k = 32) =>
        new() { InputDim = dim, Width = multiplier * dim, K = k, KAux = 2 * dim };

    public void Validate()
    {
        if (InputDim < 1) throw new ArgumentOutOfRangeException(nameof(InputDim), InputDim, "must be positive");
        if (Width < 1) throw new ArgumentOutOfRangeException(nameof(Width), Width, "must be positive");
        if (K < 1 || K > Width) throw new ArgumentOutOfRangeException(nameof(K), K, $"K must lie in 1..Width ({Width}).");
        if (KAux < 1) throw new ArgumentOutOfRangeException(nameof(KAux), KAux, "must be positive");
    }
}
