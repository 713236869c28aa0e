using System.Diagnostics;
using PopSteer.Core.Data;
using PopSteer.Core.Model;
using PopSteer.Core.Scoring;
using TorchSharp;
using static TorchSharp.torch;

namespace PopSteer.Core.Training;

/// <summary>
/// Trains SASRec with full-softmax cross-entropy over all items at every position of each window
/// (<see cref="TrainingWindows"/>), Adam, and early stopping on validation NDCG@10. Cancelling keeps the best
/// epoch's weights and returns normally.
/// </summary>
public static class SasRecTrainer
{
    public static TrainingResult Train(SasRec model, LeaveOneOutSplit split, SasRecTrainingOptions options, Device? device = null,
        IProgress<TrainingProgress>? progress = null, TrainingProfile? profile = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        device ??= CPU;
        int maxLength = model.Config.MaxLength;
        var windows = TrainingWindows.Plan(split.TrainSequences, maxLength, options.WindowStride == 0 ? Math.Max(1, maxLength / 2) : Math.Min(options.WindowStride, maxLength));
        if (windows.Targets == 0) throw new InvalidOperationException("No training sample: every user has fewer than two training items.");
        model.to(device);
        using var optimizer = optim.Adam(model.parameters(), options.LearningRate);
        using var outputBias = OutputBias(model.ItemEmbeddings.shape[0], device);
        var rng = new Random(options.Seed);
        long stepsPerEpoch = Math.Max(1, (windows.Targets + options.BatchSize - 1) / options.BatchSize);
        var schedule = new LearningRateSchedule(options.LearningRate, (long)Math.Round(options.WarmupEpochs * stepsPerEpoch),
            options.MaxEpochs * stepsPerEpoch, options.CosineDecay);
        long step = 0;
        double lr = options.LearningRate;
        var order = Enumerable.Range(0, windows.Items.Count).ToArray();
        var history = new List<TrainingProgress>();
        var clock = Stopwatch.StartNew();
        Dictionary<string, Tensor>? best = null;
        double bestNdcg = double.NegativeInfinity;
        int bestEpoch = 0, epoch = 0, sinceBest = 0;
        double lastLoss = double.NaN;
        bool cancelled = false;

        try
        {
            while (epoch < options.MaxEpochs)
            {
                var epochStart = clock.Elapsed;
                model.train();
                rng.Shuffle(order);
                double lossSum = 0;
                long lossTargets = 0;
                int next = 0;
                while (next < order.Length)
                {
                    if (cancellationToken.IsCancellationRequested) { cancelled = true; break; }
                    profile?.StartStep();
                    int first = next;
                    long batchTargets = 0;
                    while (next < order.Length && batchTargets < options.BatchSize) batchTargets += windows.Items[order[next++]].ScoredTargets;
                    if (options.WarmupEpochs > 0 || options.CosineDecay) lr = schedule.Apply(optimizer, step);
                    step++;
                    lossSum += Step(model, optimizer, split.TrainSequences, windows, order.AsSpan(first, next - first), device, outputBias, profile) * batchTargets;
                    lossTargets += batchTargets;
                    profile?.Lap("loss read-back + tensor disposal");
                }
                if (cancelled) break;
                epoch++;
                lastLoss = lossSum / lossTargets;
                var validationStart = clock.Elapsed;
                double ndcg = ValidationNdcg(model, split.Validation.Count > 0 ? split.Validation : split.Test, options.EvalBatchSize, device);
                bool improved = ndcg > bestNdcg;
                if (improved)
                {
                    bestNdcg = ndcg;
                    bestEpoch = epoch;
                    sinceBest = 0;
                    DisposeAll(best);
                    best = Snapshot(model);
                }
                else sinceBest++;
                var elapsed = clock.Elapsed;
                // The earliest stop: patience running out with no further gain, but never before MinEpochs.
                int left = Math.Min(options.MaxEpochs - epoch, Math.Max(options.Patience - sinceBest, options.MinEpochs - epoch));
                var report = new TrainingProgress("sasrec", epoch, options.MaxEpochs, lastLoss, "valid ndcg@10", ndcg, bestNdcg, improved, elapsed,
                    TimeSpan.FromSeconds((elapsed - epochStart).TotalSeconds * Math.Max(0, left)))
                {
                    LearningRate = lr, EpochTime = elapsed - epochStart, ValidationTime = elapsed - validationStart, EtaIsLowerBound = left < options.MaxEpochs - epoch,
                };
                history.Add(report);
                progress?.Report(report);
                if (options.StopsAfter(epoch, bestEpoch)) break;
            }
            if (best is not null) Restore(model, best);
        }
        finally
        {
            DisposeAll(best);
            model.eval();
        }
        return new TrainingResult(epoch, bestEpoch, double.IsNegativeInfinity(bestNdcg) ? double.NaN : bestNdcg, lastLoss, cancelled, clock.Elapsed) { History = history };
    }

    /// <summary>One optimiser step over a batch of windows; returns the mean cross-entropy over its scored targets.</summary>
    private static double Step(SasRec model, optim.Optimizer optimizer, IReadOnlyList<int[]> sequences, TrainingWindows windows, ReadOnlySpan<int> batch, Device device,
        Tensor outputBias, TrainingProfile? profile)
    {
        using var scope = NewDisposeScope();
        int width = 0;
        foreach (var w in batch) width = Math.Max(width, windows.Items[w].Length);
        var inputs = new long[batch.Length * width];
        var targets = new long[batch.Length * width];
        for (int b = 0; b < batch.Length; b++)
        {
            var w = windows.Items[batch[b]];
            var s = sequences[w.User];
            for (int p = 0; p < w.Length; p++)
            {
                inputs[b * width + p] = s[w.Start + p];
                if (p >= w.FirstScored) targets[b * width + p] = s[w.Start + p + 1];
            }
        }
        var input = tensor(inputs, [batch.Length, width], device: device);
        var target = tensor(targets, device: device);
        profile?.Lap("batch assembly");
        var hidden = model.forward(input).view(-1, model.Config.Dim);
        profile?.Lap("forward: transformer");
        // Only scored positions reach the full-catalogue softmax: the output layer dominates the cost.
        var scored = target.nonzero().squeeze(1);
        var selected = hidden.index_select(0, scored);
        // Profiling cuts the graph at the output layer's input so that its backward and the transformer's are timed
        // apart; the chain rule by hand gives the same gradients.
        var cut = profile is null ? selected : selected.detach().requires_grad_(true);
        var loss = nn.functional.cross_entropy(OutputLogits(cut, model.ItemEmbeddings, outputBias), target.index_select(0, scored));
        profile?.Lap("forward: output layer + cross-entropy");
        optimizer.zero_grad();
        profile?.Lap("optimizer (zero_grad + Adam step)");
        loss.backward();
        if (profile is not null)
        {
            profile.Lap("backward: output layer + cross-entropy");
            selected.backward([cut.grad!]);
            profile.Lap("backward: transformer");
        }
        optimizer.step();
        profile?.Lap("optimizer (zero_grad + Adam step)");
        return loss.item<float>();
    }

    /// <summary>
    /// Logits over the catalogue for the cross-entropy: h E^T, with E padded by zero rows to <see cref="PaddedCatalogue"/>
    /// columns whose logits the -inf bias removes (softmax, loss and gradients are exactly those of the unpadded matmul).
    /// At ML-1M shapes the logits matmul took 21 ms with 3,401 columns and 10.5 ms with 3,456 here (one measurement under
    /// load: docs/speed.md, "Not done yet").
    /// </summary>
    internal static Tensor OutputLogits(Tensor hidden, Tensor itemEmbeddings, Tensor outputBias)
    {
        long rows = itemEmbeddings.shape[0], padded = outputBias.shape[0];
        var table = padded == rows ? itemEmbeddings
            : cat([itemEmbeddings, zeros(padded - rows, itemEmbeddings.shape[1], device: itemEmbeddings.device)], 0);
        return outputBias.addmm(hidden, table.t());
    }

    /// <summary>The output layer's column count: the catalogue (padding row included) rounded up to a multiple of 32.</summary>
    internal static long PaddedCatalogue(long rows) => (rows + 31) / 32 * 32;

    /// <summary>0 for the real columns, -inf for the padding <see cref="OutputLogits"/> adds.</summary>
    internal static Tensor OutputBias(long rows, Device device)
    {
        long padded = PaddedCatalogue(rows);
        var bias = zeros(padded, device: device);
        if (padded > rows) bias.narrow(0, rows, padded - rows).fill_(Scalars.NegativeInfinity);
        return bias;
    }

    /// <summary>NDCG@10 of full-ranking next-item prediction (padding excluded, history not masked), as RankingEvaluator counts it.</summary>
    public static double ValidationNdcg(SasRec model, IReadOnlyList<EvaluationCase> cases, int batchSize, Device device)
    {
        if (cases.Count == 0) return 0;
        model.eval();
        using var _ = no_grad();
        double sum = 0;
        for (int start = 0; start < cases.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var batch = cases.Skip(start).Take(batchSize).ToArray();
            var (items, lengths) = HistoryBatch.Create(batch.Select(c => c.History).ToArray(), model.Config.MaxLength, model.Config.ItemCount, device);
            var scores = model.UserVectors(items, lengths).matmul(model.ItemEmbeddings.t());
            scores.select(1, 0).fill_(Scalars.NegativeInfinity);
            int k = (int)Math.Min(10, scores.shape[1]);
            var top = scores.topk(k, dim: 1).indexes.cpu().data<long>().ToArray();
            for (int b = 0; b < batch.Length; b++)
                for (int r = 0; r < k; r++)
                    if (top[b * k + r] == batch[b].Target) { sum += 1.0 / Math.Log2(r + 2); break; }
        }
        return sum / cases.Count;
    }

    internal static Dictionary<string, Tensor> Snapshot(nn.Module model)
    {
        var copy = new Dictionary<string, Tensor>();
        foreach (var (name, t) in model.state_dict())
        {
            var c = t.detach().clone();
            c.DetachFromDisposeScope();
            copy[name] = c;
        }
        return copy;
    }

    internal static void Restore(nn.Module model, Dictionary<string, Tensor> snapshot)
    {
        using var _ = no_grad();
        foreach (var (name, t) in model.state_dict()) t.copy_(snapshot[name]);
    }

    internal static void DisposeAll(Dictionary<string, Tensor>? tensors)
    {
        if (tensors is null) return;
        foreach (var t in tensors.Values) t.Dispose();
        tensors.Clear();
    }
}
