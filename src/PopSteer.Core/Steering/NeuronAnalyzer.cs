using PopSteer.Core.Data;
using PopSteer.Core.Model;
using PopSteer.Core.Scoring;
using PopSteer.Core.Storage;
using PopSteer.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace PopSteer.Core.Steering;

/// <summary>
/// METHOD.md section 5: sample real training prefixes, build a head user and a tail user of the same length for
/// each, run SASRec (eval) and the SAE encoder, and summarise the dense pre-activation z per neuron and group.
/// </summary>
public static class NeuronAnalyzer
{
    private const int BatchSize = 1024;

    /// <param name="trainSequences">Per-user training sequences (LeaveOneOutSplit.TrainSequences); prefix t of a
    /// sequence (items 0..t-1, t &gt;= 1) is a training sample.</param>
    public static NeuronStats Analyze(SasRec sasRec, TopKSae sae, IReadOnlyList<int[]> trainSequences, PopularityGroups groups,
        AnalysisSettings settings, Device? device = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        device ??= CPU;
        if (settings.Prefixes < 1) throw new ArgumentOutOfRangeException(nameof(settings), settings.Prefixes, "At least one prefix must be sampled.");
        var head = groups.Items(PopularityGroup.Head).ToArray();
        var tail = groups.Items(PopularityGroup.Tail).ToArray();
        if (head.Length == 0 || tail.Length == 0)
            throw new InvalidOperationException($"Neuron analysis needs both head and tail items; found {head.Length} head and {tail.Length} tail items (share {groups.Share}).");

        int maxLength = sasRec.Config.MaxLength;
        var prefixes = SamplePrefixes(trainSequences, settings.Prefixes, settings.Seed);
        if (prefixes.Count == 0) throw new InvalidOperationException("No training prefix to analyse: every user has fewer than two training items.");

        int[]? headMap = null, tailMap = null;
        if (settings.Mode == SyntheticUserMode.NearestByEmbedding)
        {
            headMap = NearestInGroup(sasRec, head);
            tailMap = NearestInGroup(sasRec, tail);
        }

        sasRec.to(device).eval();
        sae.to(device).eval();
        var rng = new Random(settings.Seed + 1);
        using var headMoments = new Moments(sae.Width);
        using var tailMoments = new Moments(sae.Width);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using (no_grad())
        {
            for (int start = 0; start < prefixes.Count; start += BatchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int count = Math.Min(BatchSize, prefixes.Count - start);
                var headUsers = new int[count][];
                var tailUsers = new int[count][];
                for (int b = 0; b < count; b++)
                {
                    var (user, length) = prefixes[start + b];
                    int l = Math.Min(length, maxLength);
                    headUsers[b] = new int[l];
                    tailUsers[b] = new int[l];
                    for (int p = 0; p < l; p++)
                    {
                        if (headMap is not null)
                        {
                            int real = trainSequences[user][length - l + p];
                            headUsers[b][p] = headMap[real];
                            tailUsers[b][p] = tailMap![real];
                        }
                        else
                        {
                            headUsers[b][p] = head[rng.Next(head.Length)];
                            tailUsers[b][p] = tail[rng.Next(tail.Length)];
                        }
                    }
                }
                headMoments.Add(PreActivations(sasRec, sae, headUsers, device));
                tailMoments.Add(PreActivations(sasRec, sae, tailUsers, device));
                if (progress is not null)
                {
                    double done = (double)(start + count) / prefixes.Count;
                    var elapsed = clock.Elapsed;
                    progress.Report(new TrainingProgress("analyze", start + count, prefixes.Count, 0, "prefixes", start + count, start + count, false,
                        elapsed, TimeSpan.FromSeconds(elapsed.TotalSeconds * (1 - done) / done)));
                }
            }
        }
        var (muH, sdH) = headMoments.MeanAndPopulationStd();
        var (muT, sdT) = tailMoments.MeanAndPopulationStd();
        return NeuronStats.FromMoments(muH, muT, sdH, sdT);
    }

    /// <summary>Up to <paramref name="max"/> (user, prefix length) pairs, uniformly without replacement, seeded.</summary>
    internal static List<(int User, int Length)> SamplePrefixes(IReadOnlyList<int[]> trainSequences, int max, int seed)
    {
        long total = trainSequences.Sum(s => (long)Math.Max(0, s.Length - 1));
        var all = new List<(int, int)>((int)Math.Min(total, int.MaxValue / 2));
        for (int u = 0; u < trainSequences.Count; u++)
            for (int t = 1; t < trainSequences[u].Length; t++) all.Add((u, t));
        if (all.Count <= max) return all;
        var rng = new Random(seed);
        // Partial Fisher-Yates: the first max entries become a uniform sample.
        for (int i = 0; i < max; i++)
        {
            int j = rng.Next(i, all.Count);
            (all[i], all[j]) = (all[j], all[i]);
        }
        return all.GetRange(0, max);
    }

    /// <summary>For every item (index = internal id), the group member with the largest embedding dot product.</summary>
    private static int[] NearestInGroup(SasRec sasRec, int[] members)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var table = sasRec.ItemEmbeddings.detach().cpu();
        var groupRows = table.index_select(0, tensor(members.Select(i => (long)i).ToArray()));
        var best = table.matmul(groupRows.t()).argmax(1).data<long>().ToArray();
        return best.Select(b => members[b]).ToArray();
    }

    private static Tensor PreActivations(SasRec sasRec, TopKSae sae, int[][] users, Device device)
    {
        using var scope = NewDisposeScope();
        var (items, lengths) = HistoryBatch.Create(users, sasRec.Config.MaxLength, sasRec.Config.ItemCount, device);
        var z = sae.PreActivation(sasRec.UserVectors(items, lengths));
        return z.to(ScalarType.Float64).cpu().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Per-neuron running moments in double, shifted by the first batch's mean so the variance does not cancel.
    /// Kept in tensors: copying every [1024, h] batch to managed arrays made the GC run constantly.
    /// </summary>
    private sealed class Moments(int width) : IDisposable
    {
        private readonly Tensor _sum = zeros(width, dtype: ScalarType.Float64);
        private readonly Tensor _sumSq = zeros(width, dtype: ScalarType.Float64);
        private Tensor? _shift;
        private long _n;

        public void Add(Tensor z)
        {
            using (z)
            using (var scope = NewDisposeScope())
            {
                if (_shift is null)
                {
                    _shift = z.mean([0]);
                    _shift.DetachFromDisposeScope();
                }
                var centred = z.sub(_shift);
                _sum.add_(centred.sum([0]));
                _sumSq.add_(centred.square().sum([0]));
                _n += z.shape[0];
            }
        }

        public (double[] Mean, double[] Std) MeanAndPopulationStd()
        {
            var sum = _sum.data<double>().ToArray();
            var sumSq = _sumSq.data<double>().ToArray();
            var shift = _shift!.data<double>().ToArray();
            var mean = new double[width];
            var std = new double[width];
            for (int j = 0; j < width; j++)
            {
                double m = sum[j] / _n;
                mean[j] = m + shift[j];
                std[j] = Math.Sqrt(Math.Max(0, sumSq[j] / _n - m * m));
            }
            return (mean, std);
        }

        public void Dispose()
        {
            _sum.Dispose();
            _sumSq.Dispose();
            _shift?.Dispose();
        }
    }
}
