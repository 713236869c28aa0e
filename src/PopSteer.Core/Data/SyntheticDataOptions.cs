namespace PopSteer.Core.Data;

/// <summary>
/// Size and seed of a synthetic interaction log. The structure knobs default to values that make the data behave like
/// ML-1M for this method: a Zipf long tail, and sequences predictable enough that SASRec beats MostPop while
/// concentrating its lists on popular items more than the data does.
/// </summary>
public sealed record SyntheticDataOptions(int Users, int Items, int Interactions, int Seed = 42)
{
    /// <summary>Exponent s of the Zipf-Mandelbrot popularity: the r-th most popular item weighs (r + q)^-s.</summary>
    public double ZipfExponent { get; init; } = 1.0;
    /// <summary>The offset q as a fraction of the catalogue: flattens the very top as in MovieLens (at 3,400 items, 0.02
    /// gives about 80 head items, 1,900 tail items and an interaction Gini near 0.53 before the sequential structure).</summary>
    public double ZipfOffset { get; init; } = 0.02;
    /// <summary>Items per latent cluster (a genre: users stay mostly inside a few).</summary>
    public int ClusterSize { get; init; } = 40;
    /// <summary>Chance the next item is one of the current item's successors (the sequential signal).</summary>
    public double FollowChain { get; init; } = 0.3;
    /// <summary>Chance the next item comes from one of the user's favourite clusters (else from the whole catalogue).</summary>
    public double StayInTaste { get; init; } = 0.4;
    /// <summary>Successors per item, drawn by popularity inside its cluster.</summary>
    public int Successors { get; init; } = 3;
    /// <summary>Chance the next item repeats the previous one (listening logs, Wikipedia edits: 0.75-0.8). 0 = off, and then
    /// the generator draws exactly the numbers it drew before this option existed, so its output is unchanged.</summary>
    public double RepeatPrevious { get; init; }

    public void Validate()
    {
        if (Users < 1) throw new ArgumentOutOfRangeException(nameof(Users), Users, "need at least one user");
        if (Items < 2) throw new ArgumentOutOfRangeException(nameof(Items), Items, "need at least two items");
        if (Interactions < Users) throw new ArgumentOutOfRangeException(nameof(Interactions), Interactions, $"need at least one interaction per user ({Users})");
        if (ZipfExponent < 0 || double.IsNaN(ZipfExponent)) throw new ArgumentOutOfRangeException(nameof(ZipfExponent), ZipfExponent, "must be >= 0");
        if (ZipfOffset < 0 || double.IsNaN(ZipfOffset)) throw new ArgumentOutOfRangeException(nameof(ZipfOffset), ZipfOffset, "must be >= 0");
        if (ClusterSize < 1) throw new ArgumentOutOfRangeException(nameof(ClusterSize), ClusterSize, "must be positive");
        if (FollowChain is < 0 or > 1 || StayInTaste is < 0 or > 1 || FollowChain + StayInTaste > 1)
            throw new ArgumentOutOfRangeException(nameof(FollowChain), FollowChain, "FollowChain and StayInTaste are probabilities that sum to at most 1");
        if (RepeatPrevious is < 0 or >= 1 || double.IsNaN(RepeatPrevious)) throw new ArgumentOutOfRangeException(nameof(RepeatPrevious), RepeatPrevious, "must lie in [0, 1)");
        if (Successors < 1) throw new ArgumentOutOfRangeException(nameof(Successors), Successors, "must be positive");
    }
}
