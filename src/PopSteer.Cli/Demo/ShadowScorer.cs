using System.Collections.Concurrent;
using PopSteer.Core.Scoring;
using PopSteer.Scorer;
using PopSteer.Streaming.Sequences;

namespace PopSteer.Cli.Demo;

/// <summary>
/// The counterfactuals, for a sample of served users, from the same stored history up to the event the list answers:
/// the unsteered shadow (plain SASRec of the version that served the list) and, once a refit serves, the stale
/// shadow (the version that served before the refit, steered at the same alpha and N). Batched like the Scorer (one
/// model call per version and drain), off the consumer's thread.
/// </summary>
internal sealed class ShadowScorer(SequenceStore sequences, DriftReference reference, int sampleEvery)
{
    private readonly ConcurrentQueue<Pending> _pending = new();
    private readonly ConcurrentDictionary<string, PopSteerModel> _models = new(StringComparer.Ordinal);
    private PopSteerModel? _stale;

    /// <summary>A version the Scorers may serve (the first, each published refit).</summary>
    public void AddModel(PopSteerModel model) => _models[model.Version] = model;

    /// <summary>From now on, lists served by another version are also compared with this one (the version before the refit).</summary>
    public void SetStale(PopSteerModel model) => Volatile.Write(ref _stale, model);

    public PopSteerModel? Stale => Volatile.Read(ref _stale);

    /// <summary>Sample deterministically by user so the same users are compared throughout.</summary>
    public bool Samples(string userId) => sampleEvery <= 1 || (uint)StringComparer.Ordinal.GetHashCode(userId) % (uint)sampleEvery == 0;

    public void Enqueue(Pending pending) => _pending.Enqueue(pending);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var batch = new List<Pending>();
            while (batch.Count < 256 && _pending.TryDequeue(out var next)) batch.Add(next);
            if (batch.Count == 0)
            {
                try { await Task.Delay(200, cancellationToken); } catch (OperationCanceledException) { break; }
                continue;
            }
            var stored = await sequences.ReadManyAsync(batch.Select(b => b.User).ToArray(), cancellationToken);
            // The history as it was when the list was made: later events may already be stored.
            var histories = batch.Select((b, i) => stored[i].Entries.Where(e => b.EventAt is not { } t || e.Timestamp <= t).Select(e => e.ItemId).ToArray()).ToArray();
            var stale = Stale;
            foreach (var group in Enumerable.Range(0, batch.Count).GroupBy(i => batch[i].Version))
            {
                if (!_models.TryGetValue(group.Key, out var model)) continue;
                var shadows = Lists(model, group.ToArray(), histories, ScoringMethod.SasRec, null);
                var stales = stale is null || stale.Version == group.Key ? null : Lists(stale, group.ToArray(), histories, ScoringMethod.PopSteer, batch);
                foreach (var i in group)
                {
                    var b = batch[i];
                    if (shadows[i] is not { } shadow) continue;
                    b.Phase.SampleServed.Add(b.Served);
                    b.Phase.SampleShadow.Add(shadow);
                    double servedNdcg = reference.Ndcg(b.Served, b.Next);
                    b.Phase.NdcgShadow.Add(reference.Ndcg(shadow, b.Next));
                    b.Phase.TailLift.Add(b.Phase.TailShareOf(b.Served), b.Phase.TailShareOf(shadow));
                    b.LiveSample.Add(b.Served);
                    b.LiveShadow.Add(shadow);
                    if (stales?[i] is { } old)
                    {
                        b.Phase.SampleStale.Add(old);
                        double staleNdcg = reference.Ndcg(old, b.Next);
                        b.Phase.NdcgStale.Add(staleNdcg);
                        b.Phase.TailVsStale.Add(b.Phase.TailShareOf(b.Served), b.Phase.TailShareOf(old));
                        b.Phase.NdcgVsStale.Add(servedNdcg, staleNdcg);
                        b.LiveStale.Add(old);
                    }
                }
            }
        }
    }

    /// <summary>Top-10 lists (reference ids) of <paramref name="model"/> for the batch entries <paramref name="indexes"/>; null where it knows no history item.</summary>
    private int[]?[] Lists(PopSteerModel model, int[] indexes, string[][] histories, ScoringMethod method, List<Pending>? steering)
    {
        var lists = new int[]?[histories.Length];
        var known = indexes.Select(i => (Index: i, History: histories[i].Select(id => model.Items.TryGetInternal(id, out var x) ? x : 0)
            .Where(x => x > 0).TakeLast(model.MaxLength).ToArray())).Where(h => h.History.Length > 0).ToArray();
        // PopSteer lists use each list's own alpha and N (what the served list was made with).
        foreach (var part in known.GroupBy(h => steering is null ? (0.0, 0) : (steering[h.Index].Alpha, steering[h.Index].Neurons)))
        {
            var rows = part.ToArray();
            var plan = steering is null ? null : model.PlanFor(part.Key.Item1, Math.Min(part.Key.Item2 > 0 ? part.Key.Item2 : model.SaeWidth, model.SaeWidth));
            var ranked = model.Recommend(rows.Select(r => r.History).ToArray(), method, plan, 10);
            for (int j = 0; j < rows.Length; j++) lists[rows[j].Index] = reference.ToReference(ranked[j].Select(r => model.Items.ToExternal(r.Item)));
        }
        return lists;
    }

    /// <summary>One served list waiting for its counterfactuals.</summary>
    internal sealed record Pending(
        string User, int[] Served, string Version, double Alpha, int Neurons, DateTimeOffset? EventAt, string? Next,
        PhaseStatistics Phase, ServedExposureWindow LiveSample, ServedExposureWindow LiveShadow, ServedExposureWindow LiveStale);
}
