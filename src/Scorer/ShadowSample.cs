using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PopSteer.Core.Scoring;
using PopSteer.Streaming.Sequences;

namespace PopSteer.Scorer;

/// <summary>
/// The unsteered counterfactual of what the Scorer serves: for every <c>Scoring:ShadowSampleEvery</c>-th user (by a
/// stable hash of the id, so the same users throughout, in every replica and after every restart), what plain SASRec would have listed from the same history. Its tail
/// share and Gini (<see cref="ScorerMetrics.Shadow"/>) beside the served ones show whether steering works: with alpha
/// above 0 the served tail share should sit above the shadow's. One extra model call on the sample, after the batch is
/// committed; a failure here is logged and never fails the batch.
/// </summary>
public sealed class ShadowSample(IOptions<ScoringOptions> options, ScorerMetrics metrics, ILogger<ShadowSample> logger)
{
    private readonly ScoringOptions _options = options.Value;
    private string? _version;

    public void Observe(ServingModel model, IReadOnlyList<UserSignal> users, IReadOnlyList<UserSequence> sequences)
    {
        var every = _options.ShadowSampleEvery;
        if (every <= 0 || users.Count != sequences.Count) return;
        try
        {
            if (model.Version != _version) metrics.Shadow.Reset(model.Model.Groups);
            _version = model.Version;
            var histories = new List<int[]>();
            for (int u = 0; u < users.Count; u++)
            {
                if (!Includes(users[u].UserId, every)) continue;
                var history = BatchScorer.ToHistory(sequences[u], model.Model.Items, model.Model.MaxLength);
                if (history.Length > 0) histories.Add(history);
            }
            if (histories.Count == 0) return;
            foreach (var list in model.Model.Recommend(histories, ScoringMethod.SasRec, null, _options.TopK, _options.ExcludeSeen))
                metrics.Shadow.Add(list.Select(r => r.Item).ToArray());
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogWarning("Shadow sample skipped: {Error}", e.Message);
        }
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
