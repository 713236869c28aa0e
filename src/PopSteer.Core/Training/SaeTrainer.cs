using System.Diagnostics;
using System.Runtime.InteropServices;
using PopSteer.Core.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace PopSteer.Core.Training;

/// <summary>
/// Trains the TopK SAE on fixed input vectors (METHOD.md section 3): loss = FVU + 1/2 L_aux, where L_aux
/// reconstructs the detached residual e = x - x_hat from the top k_aux latents among those dead (never fired)
/// during the previous epoch, scaled by min(#dead / k_aux, 1). Early stop on validation FVU; cancel keeps the best.
/// </summary>
public static class SaeTrainer
{
    public static TrainingResult Train(TopKSae sae, Tensor trainVectors, Tensor validVectors, SaeTrainingOptions options, Device? device = null,
        IProgress<TrainingProgress>? progress = null, TrainingProfile? profile = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        device ??= CPU;
        long count = trainVectors.shape[0];
        if (count < 2) throw new InvalidOperationException("The SAE needs at least two training vectors.");
        sae.to(device);
        double inputScale = options.NormaliseInputs ? InputScale(trainVectors) : 1.0;
        using var scale = inputScale.ToScalar(); // held by `using` until the call returns (see Scalars)
        using var scaledTrain = trainVectors.div(scale);
        using var scaledValid = validVectors.div(scale);
        trainVectors = scaledTrain;
        validVectors = scaledValid;
        if (options.DecoderBiasFromMean)
        {
            using var mean = trainVectors.mean([0]);
            sae.SetDecoderBias(mean.to(device));
        }
        if (options.UnitNormDecoder) sae.NormaliseDecoderRows();
        // On the CPU the whole step in managed code (SaeTrainingStep, with its own Adam state). Otherwise autograd's step
        // with one fused Adam pass per parameter on the CPU, libtorch's Adam elsewhere (CUDA). The same update each way.
        var managed = options.ManagedStep && SaeTrainingStep.Supports(sae, trainVectors)
            ? new SaeTrainingStep(sae, trainVectors, (int)Math.Min(options.BatchSize, count), options.LearningRate, options.AuxWeight, options.UnitNormDecoder)
            : null;
        var fused = managed is null && FusedAdam.Supports(sae.parameters()) ? new FusedAdam(sae.parameters(), options.LearningRate) : null;
        using var optimizer = managed is null && fused is null ? optim.Adam(sae.parameters(), options.LearningRate) : null;
        using var generator = new Generator((ulong)options.Seed);
        long stepsPerEpoch = Math.Max(1, count / options.BatchSize + (count % options.BatchSize >= 2 ? 1 : 0));
        var schedule = new LearningRateSchedule(options.LearningRate, (long)Math.Round(options.WarmupEpochs * stepsPerEpoch),
            options.MaxEpochs * stepsPerEpoch, options.CosineDecay);
        bool scheduled = options.WarmupEpochs > 0 || options.CosineDecay;
        long step = 0;
        double lr = options.LearningRate;
        var dead = zeros(0, dtype: ScalarType.Int64, device: device);   // dead latent indices; none before a full epoch has been seen
        var history = new List<TrainingProgress>();
        var clock = Stopwatch.StartNew();
        Dictionary<string, Tensor>? best = null;
        double bestFvu = double.PositiveInfinity, lastLoss = double.NaN;
        int epoch = 0, bestEpoch = 0, sinceBest = 0;
        bool cancelled = false;
        using var validOnDevice = validVectors.shape[0] >= 2 ? validVectors.to(device) : trainVectors.to(device);
        try
        {
            while (epoch < options.MaxEpochs)
            {
                var epochStart = clock.Elapsed;
                sae.train();
                using var fired = zeros(sae.Width, dtype: ScalarType.Bool, device: device);
                using var perm = randperm(count, generator: generator);
                double lossSum = 0;
                int batches = 0;
                var order = managed is null ? null : MemoryMarshal.Cast<byte, long>(perm.bytes).ToArray();
                if (managed is not null) Array.Clear(managed.Fired);
                for (long start = 0; start < count; start += options.BatchSize)
                {
                    if (cancellationToken.IsCancellationRequested) { cancelled = true; break; }
                    long end = Math.Min(count, start + options.BatchSize);
                    if (end - start < 2) break; // a one-row batch has no variance to normalise by
                    profile?.StartStep();
                    if (managed is not null)
                    {
                        if (scheduled) managed.LearningRate = lr = schedule.At(step);
                        step++;
                        lossSum += managed.Step(order.AsSpan((int)start, (int)(end - start)), profile);
                        batches++;
                        continue;
                    }
                    using (NewDisposeScope())
                    {
                        var x = trainVectors.index_select(0, perm.slice(0, start, end, 1)).to(device);
                        profile?.Lap("batch gather");
                        var loss = Loss(sae, x, dead, options.AuxWeight, fired, profile);
                        if (scheduled)
                        {
                            if (fused is not null) fused.LearningRate = lr = schedule.At(step);
                            else lr = schedule.Apply(optimizer!, step);
                        }
                        step++;
                        if (fused is not null) sae.zero_grad();
                        else optimizer!.zero_grad();
                        profile?.Lap(OptimizerPart);
                        loss.backward();
                        profile?.Lap("backward");
                        if (options.UnitNormDecoder) sae.ProjectDecoderGradient();
                        profile?.Lap("unit-norm decoder (gradient projection + row renormalisation)");
                        if (fused is not null) fused.Step();
                        else optimizer!.step();
                        profile?.Lap(OptimizerPart);
                        if (options.UnitNormDecoder) sae.NormaliseDecoderRows();
                        profile?.Lap("unit-norm decoder (gradient projection + row renormalisation)");
                        lossSum += loss.item<float>();
                        batches++;
                    }
                    profile?.Lap("loss read-back + tensor disposal");
                }
                if (cancelled) break;
                epoch++;
                dead.Dispose();
                if (managed is not null)
                    using (var marked = tensor(managed.Fired)) fired.copy_(marked);
                using (var notFired = fired.logical_not()) dead = notFired.nonzero().squeeze(1);
                managed?.SetDead(dead.data<long>().ToArray());
                lastLoss = lossSum / Math.Max(1, batches);
                var validationStart = clock.Elapsed;
                double fvu = Fvu(sae, validOnDevice);
                bool improved = fvu < bestFvu;
                if (improved)
                {
                    bestFvu = fvu;
                    bestEpoch = epoch;
                    sinceBest = 0;
                    SasRecTrainer.DisposeAll(best);
                    best = SasRecTrainer.Snapshot(sae);
                }
                else sinceBest++;
                var elapsed = clock.Elapsed;
                long deadNow = dead.shape[0];
                // Remaining epochs at this epoch's pace. While FVU still falls the run goes on to MaxEpochs (a schedule
                // has a fixed length); only a stall makes patience the nearer end.
                int left = options.MaxEpochs - epoch;
                bool stalling = sinceBest > 0 && options.Patience - sinceBest < left;
                var report = new TrainingProgress("sae", epoch, options.MaxEpochs, lastLoss, $"valid fvu (dead {deadNow})", fvu, bestFvu, improved, elapsed,
                    TimeSpan.FromSeconds((elapsed - epochStart).TotalSeconds * (stalling ? options.Patience - sinceBest : left)))
                {
                    LearningRate = lr, EpochTime = elapsed - epochStart, ValidationTime = elapsed - validationStart,
                };
                history.Add(report);
                progress?.Report(report);
                if (sinceBest >= options.Patience) break;
            }
            if (best is not null) SasRecTrainer.Restore(sae, best);
            if (inputScale != 1.0) sae.ScaleInputs(inputScale); // back to reading SASRec's own vectors
        }
        finally
        {
            SasRecTrainer.DisposeAll(best);
            dead.Dispose();
            sae.eval();
        }
        return new TrainingResult(epoch, bestEpoch, double.IsPositiveInfinity(bestFvu) ? double.NaN : bestFvu, lastLoss, cancelled, clock.Elapsed) { History = history, InputScale = inputScale };
    }

    private const string OptimizerPart = "optimizer (zero_grad + Adam step)";

    /// <summary>sqrt(mean over rows of ||x - mean(x)||^2 / d): 1 when every dimension has unit variance on average.</summary>
    public static double InputScale(Tensor x)
    {
        using var scope = NewDisposeScope();
        double meanSquare = x.sub(x.mean([0], keepdim: true)).square().mean().item<float>();
        return meanSquare > 0 ? Math.Sqrt(meanSquare) : 1.0;
    }

    /// <summary>
    /// FVU + auxWeight * L_aux for one batch; marks the latents that fired in <paramref name="fired"/>.
    /// <paramref name="deadLatents"/> holds the indices of the dead latents (empty: no auxiliary loss). Only their
    /// columns of z are ranked, which picks the same top k_aux as masking the rest to zero, at a fraction of the cost.
    /// <para>
    /// The dense z only chooses the latents (no gradient); the chosen entries are then recomputed from their rows of
    /// W_enc (<see cref="TopKSae.PreActivationAt"/>), so the backward touches B x (k + k_aux) entries instead of the
    /// dense [B, h] matrix: the same loss and gradients as TopK over a differentiable dense z
    /// (FastTrainingTests holds it to that reference), without its two backward matmuls.
    /// </para>
    /// </summary>
    public static Tensor Loss(TopKSae sae, Tensor x, Tensor deadLatents, double auxWeight, Tensor? fired = null, TrainingProfile? profile = null)
    {
        using var scope = NewDisposeScope();
        long deadCount = deadLatents.shape[0];
        bool aux = deadCount > 0 && auxWeight != 0;
        int kAux = (int)Math.Min(sae.Config.KAux, deadCount);
        Tensor indices, auxIndices = null!;
        using (no_grad())
        {
            var z = sae.PreActivation(x);
            profile?.Lap("forward: encoder (no gradient)");
            indices = TopKSelection.Indices(z, sae.Config.K);
            // ReLU before TopK only reorders ties at zero, whose values and gradients are zero either way.
            if (aux) auxIndices = deadLatents.index_select(0, TopKSelection.Indices(z.index_select(1, deadLatents), kAux).reshape(-1)).view(-1, kAux);
            profile?.Lap("forward: top-k");
        }
        var values = sae.PreActivationAt(x, indices).relu();
        profile?.Lap("forward: chosen latents' pre-activations");
        var xHat = sae.Decode(values, indices);
        var totalVariance = x.sub(x.mean([0], keepdim: true)).square().sum();
        var fvu = xHat.sub(x).square().sum().div(totalVariance);
        profile?.Lap("forward: decode + FVU");
        if (fired is not null)
        {
            using var _ = no_grad();
            var active = indices.masked_select(values.gt(Scalars.Zero)); // a kept-alive scalar: see Scalars
            fired.index_fill_(0, active, Scalars.True);
            profile?.Lap("forward: fired latents");
        }
        if (!aux) return fvu.MoveToOuterDisposeScope();

        // e = x - x_hat, detached: L_aux teaches dead latents to explain what the live ones missed, not to move x_hat.
        var residual = x.sub(xHat).detach();
        var auxValues = sae.PreActivationAt(x, auxIndices).relu();
        var residualHat = sae.DecodeResidual(auxValues, auxIndices);
        double scale = Math.Min((double)deadCount / sae.Config.KAux, 1.0);
        using var weight = (scale * auxWeight).ToScalar(); // held by `using` until the call returns (see Scalars)
        var auxLoss = residualHat.sub(residual).square().sum().div(totalVariance).mul(weight);
        var total = fvu.add(auxLoss, Scalars.One).MoveToOuterDisposeScope();
        profile?.Lap("forward: auxiliary loss (dead latents)");
        return total;
    }

    /// <summary>sum ||x_hat - x||^2 / sum ||x - mean(x)||^2 over all rows (eval mode, no gradient).</summary>
    public static double Fvu(TopKSae sae, Tensor x, int batchSize = 8192)
    {
        sae.eval();
        using var _ = no_grad();
        using var outer = NewDisposeScope();
        double err = 0;
        var mean = x.mean([0], keepdim: true);
        double total = x.sub(mean).square().sum().item<float>();
        for (long start = 0; start < x.shape[0]; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var batch = x.slice(0, start, Math.Min(x.shape[0], start + batchSize), 1);
            err += sae.Reconstruct(batch).sub(batch).square().sum().item<float>();
        }
        return total == 0 ? double.NaN : err / total;
    }
}
