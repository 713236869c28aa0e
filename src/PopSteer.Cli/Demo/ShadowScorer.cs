using System.Collections.Concurrent;
using PopSteer.Core.Scoring;
using PopSteer.Scorer;
using PopSteer.Streaming.Sequences;

namespace PopSteer.Cli.Demo;

/// <summary>
/// The unsteered counterfactual: for a sample of served users, what plain SASRec would have listed from the same
/// stored history. Batched like the Scorer (one model call per drain), off the consumer's thread.
/// </summary>
internal sealed class ShadowScorer(PopSteerModel model, SequenceStore sequences, int sampleEvery)
{
    private readonly ConcurrentQueue<(string User, int[] Served, PhaseStatistics Phase, ServedExposureWindow Live, ServedExposureWindow LiveShadow)> _pending = new();

    /// <summary>Sample deterministically by user so the same users are compared throughout.</summary>
    public bool Samples(string userId) => (uint)StringComparer.Ordinal.GetHashCode(userId) % (uint)sampleEvery == 0 || sampleEvery <= 1;

    public void Enqueue(string userId, int[] served, PhaseStatistics phase, ServedExposureWindow live, ServedExposureWindow liveShadow) =>
        _pending.Enqueue((userId, served, phase, live, liveShadow));

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var batch = new List<(string User, int[] Served, PhaseStatistics Phase, ServedExposureWindow Live, ServedExposureWindow LiveShadow)>();
            while (batch.Count < 256 && _pending.TryDequeue(out var next)) batch.Add(next);
            if (batch.Count == 0)
            {
                try { await Task.Delay(200, cancellationToken); } catch (OperationCanceledException) { break; }
                continue;
            }
            var stored = await sequences.ReadManyAsync(batch.Select(b => b.User).ToArray(), cancellationToken);
            var histories = stored.Select(s => s.ItemIds
                .Select(id => model.Items.TryGetInternal(id, out var i) ? i : 0)
                .Where(i => i > 0).TakeLast(model.MaxLength).ToArray()).ToArray();
            var scorable = Enumerable.Range(0, batch.Count).Where(i => histories[i].Length > 0).ToArray();
            if (scorable.Length == 0) continue;
            var lists = model.Recommend(scorable.Select(i => histories[i]).ToArray(), ScoringMethod.SasRec, null, 10);
            for (int j = 0; j < scorable.Length; j++)
            {
                var b = batch[scorable[j]];
                var shadow = lists[j].Select(r => r.Item).ToArray();
                b.Phase.SampleServed.Add(b.Served);
                b.Phase.SampleShadow.Add(shadow);
                b.Live.Add(b.Served);
                b.LiveShadow.Add(shadow);
            }
        }
    }
}
