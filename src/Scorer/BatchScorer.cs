using Microsoft.Extensions.Options;
using PopSteer.Core.Data;
using PopSteer.Core.Scoring;
using PopSteer.Streaming.Contracts;
using PopSteer.Streaming.Sequences;

namespace PopSteer.Scorer;

/// <summary>
/// Scores one micro-batch with one model and one steering: maps stored external ids through the model's vocabulary
/// (unknown items skipped, the most recent <c>MaxLength</c> kept), ranks every scorable user in ONE model call, and
/// gives users without a scorable history the configured fallback. Users in the shadow sample also get plain SASRec's
/// list from the same pass (<see cref="ScoredUser.UnsteeredItems"/>). The call uses the model's threads unless
/// <c>parallelism</c> says how many (one, when the Scorer scores another batch at the same time).
/// </summary>
public sealed class BatchScorer(IOptions<ScoringOptions> options)
{
    private readonly ScoringOptions _options = options.Value;

    public IReadOnlyList<ScoredUser> Score(
        ServingModel model,
        ActiveSteering steering,
        IReadOnlyList<UserSignal> users,
        IReadOnlyList<UserSequence> sequences,
        string batchId,
        DateTimeOffset generatedAt,
        int? parallelism = null)
    {
        if (users.Count != sequences.Count) throw new ArgumentException($"{users.Count} users but {sequences.Count} sequences.");
        var vocabulary = model.Model.Items;
        var histories = new List<int[]>(users.Count);
        var scorable = new List<int>(users.Count);
        var unscorable = new List<int>();
        for (int u = 0; u < users.Count; u++)
        {
            var history = ToHistory(sequences[u], vocabulary, model.Model.MaxLength);
            if (history.Length == 0) unscorable.Add(u);
            else
            {
                histories.Add(history);
                scorable.Add(u);
            }
        }

        var results = new ScoredUser?[users.Count];
        if (histories.Count > 0)
        {
            // The shadow sample's unsteered lists come from the same SASRec pass as the served ones.
            var shadowed = scorable.Select(u => ShadowSample.Includes(users[u].UserId, _options.ShadowSampleEvery)).ToArray();
            var (ranked, unsteered) = model.Model.RecommendWithUnsteered(histories, steering.Plan, _options.TopK, shadowed, _options.ExcludeSeen, parallelism);
            for (int i = 0; i < scorable.Count; i++)
                results[scorable[i]] = Build(model, steering, users[scorable[i]], ranked[i], batchId, generatedAt, fallback: false) with
                {
                    UnsteeredItems = unsteered[i]?.Select(r => r.Item).ToArray(),
                };
        }
        if (_options.Fallback == FallbackMode.SteeredGlobal && unscorable.Count > 0)
        {
            var global = model.SteeredGlobalList(steering, _options.TopK);
            foreach (var u in unscorable)
                results[u] = Build(model, steering, users[u], global, batchId, generatedAt, fallback: true);
        }
        return results.OfType<ScoredUser>().ToArray();
    }

    /// <summary>Internal ids of the known items, oldest first, at most <paramref name="maxLength"/> most recent.</summary>
    public static int[] ToHistory(UserSequence sequence, ItemVocabulary vocabulary, int maxLength)
    {
        var entries = sequence.Entries;
        var reversed = new List<int>(Math.Min(entries.Count, maxLength));
        for (int i = entries.Count - 1; i >= 0 && reversed.Count < maxLength; i--)
            if (vocabulary.TryGetInternal(entries[i].ItemId, out var id))
                reversed.Add(id);
        reversed.Reverse();
        return reversed.ToArray();
    }

    private static ScoredUser Build(ServingModel model, ActiveSteering steering, UserSignal user, RankedItem[] ranked, string batchId, DateTimeOffset generatedAt, bool fallback)
    {
        var items = new RecommendedItem[ranked.Length];
        var ids = new int[ranked.Length];
        for (int r = 0; r < ranked.Length; r++)
        {
            ids[r] = ranked[r].Item;
            items[r] = new RecommendedItem(model.Model.Items.ToExternal(ranked[r].Item), ranked[r].Score);
        }
        var recommendation = new Recommendation
        {
            UserId = user.UserId,
            Items = items,
            ModelVersion = model.Version,
            Alpha = steering.Alpha,
            Neurons = steering.Neurons,
            GeneratedAt = generatedAt,
            EventTimestamp = user.EventTimestamp,
            EnqueuedAt = user.EnqueuedAt,
            BatchId = batchId,
            Fallback = fallback,
            IdempotencyKey = user.Trigger is { } t
                ? Recommendation.IdempotencyKeyFor(user.UserId, t.Topic, t.Partition.Value, t.Offset.Value, model.Version)
                : null,
        };
        return new ScoredUser(recommendation, ids);
    }
}
