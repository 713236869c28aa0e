namespace PopSteer.Scorer;

/// <summary>
/// The unsteered counterfactual of what the Scorer serves: for every <c>Scoring:ShadowSampleEvery</c>-th user (by a
/// stable hash of the id, so the same users throughout, in every replica and after every restart), what plain SASRec
/// would have listed from the same history. Its tail share and Gini (<see cref="ScorerMetrics.Shadow"/>) beside the
/// served ones show whether steering works: with alpha above 0 the served tail share should sit above the shadow's.
/// <see cref="BatchScorer"/> ranks the sample's plain lists in the same model call as the served ones (SASRec's pass is
/// shared; only the item product is extra); this records them once the batch is committed.
/// </summary>
public sealed class ShadowSample(ScorerMetrics metrics)
{
    private string? _version;

    public void Observe(ServingModel model, IReadOnlyList<ScoredUser> scored)
    {
        if (model.Version != _version) metrics.Shadow.Reset(model.Model.Groups);
        _version = model.Version;
        foreach (var s in scored)
            if (s.UnsteeredItems is { } items) metrics.Shadow.Add(items);
    }

    /// <summary>Whether the user is in a sample of every <paramref name="every"/>-th user.</summary>
    public static bool Includes(string userId, int every) => every > 0 && Hash(userId) % (uint)every == 0;

    /// <summary>
    /// FNV-1a (32 bit) of the id's UTF-8 bytes. Not <c>string.GetHashCode</c>: .NET randomises that per process, so two
    /// replicas, or one Scorer before and after a restart, would sample different users and their shadow series would
    /// not be comparable.
    /// </summary>
    public static uint Hash(string userId)
    {
        uint hash = 2166136261;
        int most = System.Text.Encoding.UTF8.GetMaxByteCount(userId.Length);
        Span<byte> buffer = most <= 1024 ? stackalloc byte[most] : new byte[most];
        foreach (var b in buffer[..System.Text.Encoding.UTF8.GetBytes(userId, buffer)]) hash = (hash ^ b) * 16777619;
        return hash;
    }
}
