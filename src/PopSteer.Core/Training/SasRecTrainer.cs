using System.Diagnostics;
using PopSteer.Core.Data;
using PopSteer.Core.Model;
using PopSteer.Core.Scoring;
using TorchSharp;
using static TorchSharp.torch;

namespace PopSteer.Core.Training;

/// <summary>
/// Trains SASRec with full-softmax cross-entropy over all items (<see cref="FullSoftmaxCrossEntropy"/>) at every position of each window
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
        var rng = new Random(options.Seed);
        long stepsPerEpoch = Math.Max(1, (windows.Targets + options.BatchSize - 1) / options.BatchSize);
        // With a cool-down the decay is planned for the budget's last epochs and moved earlier if patience runs out;
        // the cosine schedule decays from the warm-up's end (DecayStartStep 0).
        var schedule = new LearningRateSchedule(options.LearningRate, (long)Math.Round(options.WarmupEpochs * stepsPerEpoch),
            options.MaxEpochs * stepsPerEpoch, options.CosineDecay || options.HasCooldown)
            { DecayStartStep = options.HasCooldown ? options.CooldownStartEpoch * stepsPerEpoch : 0 };
        bool scheduled = options.WarmupEpochs > 0 || options.CosineDecay || options.HasCooldown;
        // The epoch the cool-down ends at, once it has started (at once when the budget is no longer than the cool-down).
        int? cooldownEnd = options.HasCooldown && options.CooldownStartEpoch == 0 ? options.MaxEpochs : null;
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
                long epochFirstStep = step;
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
                    if (scheduled) lr = schedule.Apply(optimizer, step);
                    step++;
                    lossSum += Step(model, optimizer, split.TrainSequences, windows, order.AsSpan(first, next - first), device, profile) * batchTargets;
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
                if (cooldownEnd is null && options.CoolsDownAfter(epoch, bestEpoch))
                {
                    cooldownEnd = Math.Min(options.MaxEpochs, epoch + options.CooldownEpochs);
                    // From here to the cool-down's last step, counted in this epoch's steps (windows pack unevenly).
                    schedule = schedule with { DecayStartStep = step, TotalSteps = step + (cooldownEnd.Value - epoch) * (step - epochFirstStep) };
                }
                var elapsed = clock.Elapsed;
                // The earliest end: the cool-down's last epoch once it runs; before it, patience running out with no
                // further gain (never before MinEpochs), then the cool-down if there is one.
                int untilPatience = Math.Max(options.Patience - sinceBest, options.MinEpochs - epoch);
                int left = cooldownEnd is int end ? end - epoch
                    : Math.Min(options.MaxEpochs - epoch, untilPatience + (options.HasCooldown ? options.CooldownEpochs : 0));
                var report = new TrainingProgress("sasrec", epoch, options.MaxEpochs, lastLoss, "valid ndcg@10", ndcg, bestNdcg, improved, elapsed,
                    TimeSpan.FromSeconds((elapsed - epochStart).TotalSeconds * Math.Max(0, left)))
                {
                    LearningRate = lr, EpochTime = elapsed - epochStart, ValidationTime = elapsed - validationStart, EtaIsLowerBound = cooldownEnd is null && left < options.MaxEpochs - epoch,
                };
                history.Add(report);
                progress?.Report(report);
                if (cooldownEnd is int last ? epoch >= last : options.StopsAfter(epoch, bestEpoch)) break;
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
        TrainingProfile? profile)
    {
        using var scope = NewDisposeScope();
        int width = 0, scoredCount = 0;
        foreach (var w in batch)
        {
            width = Math.Max(width, windows.Items[w].Length);
            scoredCount += windows.Items[w].ScoredTargets;
        }
        var inputs = new long[batch.Length * width];
        // Only scored positions reach the full-catalogue softmax: the output layer dominates the cost.
        var scoredPositions = new long[scoredCount];
        var scoredTargets = new int[scoredCount];
        int n = 0;
        for (int b = 0; b < batch.Length; b++)
        {
            var w = windows.Items[batch[b]];
            var s = sequences[w.User];
            for (int p = 0; p < w.Length; p++)
            {
                inputs[b * width + p] = s[w.Start + p];
                if (p < w.FirstScored) continue;
                scoredPositions[n] = b * width + p;
                scoredTargets[n++] = s[w.Start + p + 1];
            }
        }
        var input = tensor(inputs, [batch.Length, width], device: device);
        profile?.Lap("batch assembly");
        optimizer.zero_grad();
        double loss = AccumulateGradients(model, input, scoredPositions, scoredTargets, profile);
        optimizer.step();
        profile?.Lap("optimizer (zero_grad + Adam step)");
        return loss;
    }

    /// <summary>
    /// Adds to the model's gradients those of the mean cross-entropy of the targets at the scored positions (indices into
    /// the flattened [batch, width] input) and returns it. The output layer is differentiated by hand
    /// (<see cref="FullSoftmaxCrossEntropy"/>): its gradient enters autograd at the scored hidden states and, the item
    /// table being tied, is added to the gradient the table gets from the input side.
    /// </summary>
    internal static double AccumulateGradients(SasRec model, Tensor input, long[] scoredPositions, int[] scoredTargets, TrainingProfile? profile = null)
    {
        using var scope = NewDisposeScope();
        var device = input.device;
        var selected = model.forward(input).view(-1, model.Config.Dim).index_select(0, tensor(scoredPositions, device: device));
        profile?.Lap("forward: transformer");
        var table = model.ItemEmbeddings;
        long rows = table.shape[0];
        Tensor hiddenGrad, tableGrad;
        double loss;
        using (no_grad())
        {
            var h = selected.detach();
            // Zero rows pad the table to a multiple of 32 columns (PaddedCatalogue): the matmul's fast path.
            var padded = cat([table.detach(), zeros(PaddedCatalogue(rows) - rows, table.shape[1], device: device)], 0);
            var logits = h.matmul(padded.t());
            loss = FullSoftmaxCrossEntropy.LossAndGradient(logits, (int)rows, scoredTargets);
            profile?.Lap("forward: output layer + cross-entropy");
            hiddenGrad = logits.matmul(padded);
            tableGrad = logits.t().matmul(h).narrow(0, 0, rows);
            profile?.Lap("backward: output layer + cross-entropy");
        }
        selected.backward([hiddenGrad]);
        var grad = table.grad ?? throw new InvalidOperationException("The item table got no gradient from the input side.");
        grad.add_(tableGrad);
        profile?.Lap("backward: transformer");
        return loss;
    }

    /// <summary>The output layer's column count: the catalogue (padding row included) rounded up to a multiple of 32.
    /// At ML-1M shapes the logits matmul took 21 ms with 3,401 columns and 10.5 ms with 3,456 here (one measurement under
    /// load: docs/speed.md, "Not done yet").</summary>
    internal static long PaddedCatalogue(long rows) => (rows + 31) / 32 * 32;

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
