using System.Diagnostics;
using PopSteer.BenchShared;
using PopSteer.Core.Data;
using PopSteer.Core.Model;
using PopSteer.Core.Training;
using static TorchSharp.torch;

namespace PopSteer.Bench;

/// <summary>
/// Where a training epoch's time goes (issue 11, item 3), for SASRec and the SAE at the fit's own recipe: each part of
/// the optimiser steps (<see cref="TrainingProfile"/>), validation, and the SAE's input vectors, beside the sgemm
/// yardstick measured before and after in the same run, and each epoch's model FLOPs as a share of it. The per-epoch
/// lines (loss, validation NDCG@10 / FVU) double as learning curves.
/// <code>
/// train-profile [--data PATH | --users 6000 --items 3400 --interactions 1000000 --repeat 0] [--epochs 1] [--sae-epochs 2] [--sae-batch B]
///               [--min-epochs 0] [--patience 10] [--warmup 0] [--cooldown 0] [--cosine] [--lr 3e-3] [--batch 2048] [--sae-stride 1] [--no-sae] [--threads T]
///               [--sae-inputs PATH] [--autograd-sae]
/// </code>
/// </summary>
internal static class TrainProfileBench
{
    public static int Run(Args a)
    {
        var data = a.Get("data") is { } path
            ? PopSteerFitter.LoadData(path)
            : SequenceDataset.FromInteractions(SyntheticDataGenerator.Generate(
                new SyntheticDataOptions(a.Int("users", 6000), a.Int("items", 3400), a.Int("interactions", 1_000_000), a.Int("seed", 42))
                { RepeatPrevious = a.Double("repeat", 0) }));
        var fit = new FitOptions();
        var split = LeaveOneOutSplit.Create(data, fit.MaxLength);
        int stride = fit.WindowStride;
        var windows = TrainingWindows.Plan(split.TrainSequences, fit.MaxLength, stride);
        Console.WriteLine($"data: {data.UserIds.Count} users, {data.Items.Count} items, {data.Interactions} interactions; " +
                          $"{windows.Items.Count} windows, {windows.Targets} targets, {windows.Tokens} tokens per epoch; torch threads {get_num_threads()}");
        double peakBefore = SgemmPeak.Measure(seconds: 2);
        Console.WriteLine($"before: {SgemmPeak.Describe(peakBefore)}");

        // --sae-inputs PATH: the SAE's input vectors are read from PATH when it exists (no SASRec then), else written to it.
        var saeInputs = a.Get("sae-inputs");
        if (saeInputs is not null && File.Exists(saeInputs) && !a.Flag("no-sae"))
        {
            var (cachedTrain, cachedValid) = ReadVectors(saeInputs);
            using (cachedTrain)
            using (cachedValid)
            {
                Console.WriteLine($"SAE inputs: {cachedTrain.shape[0]} training and {cachedValid.shape[0]} validation vectors read from {saeInputs} (SASRec not trained)");
                TrainSae(a, fit, cachedTrain, cachedValid, peakBefore);
            }
            return After(peakBefore);
        }

        random.manual_seed(a.Int("seed", 42));
        using var sasRec = new SasRec(new SasRecConfig
        {
            ItemCount = data.Items.Count, Dim = fit.Dim, Blocks = fit.Blocks, Heads = fit.Heads, FeedForward = fit.FeedForward,
            MaxLength = fit.MaxLength, Dropout = fit.Dropout, AttentionDropout = fit.Dropout, LayerNormEps = fit.LayerNormEps,
        });
        var sasOptions = fit.SasRec with
        {
            MaxEpochs = a.Int("epochs", 1), MinEpochs = a.Int("min-epochs", 0), Patience = a.Int("patience", 10),
            WarmupEpochs = a.Double("warmup", 0), CosineDecay = a.Flag("cosine"), CooldownEpochs = a.Int("cooldown", 0), Seed = a.Int("seed", 42), WindowStride = stride,
            LearningRate = a.Double("lr", fit.SasRec.LearningRate), BatchSize = a.Int("batch", fit.SasRec.BatchSize),
        };
        var sasProfile = new TrainingProfile();
        var sasResult = SasRecTrainer.Train(sasRec, split, sasOptions, profile: sasProfile, progress: new Curve());
        double sasFlops = SasRecEpochFlops(sasRec.Config, windows);
        Report("SASRec", sasProfile, sasResult, sasFlops, peakBefore);

        if (!a.Flag("no-sae"))
        {
            var clock = Stopwatch.StartNew();
            using var train = SaeInputs.TrainingVectors(sasRec, split.TrainSequences, a.Int("sae-stride", 1), CPU);
            using var valid = SaeInputs.CaseVectors(sasRec, split.Validation.Count > 0 ? split.Validation : split.Test, CPU);
            Console.WriteLine($"SAE inputs: {train.shape[0]} training and {valid.shape[0]} validation vectors in {clock.Elapsed.TotalSeconds:F1} s (a forward over every prefix, once per fit)");
            if (saeInputs is not null) WriteVectors(saeInputs, train, valid);
            TrainSae(a, fit, train, valid, peakBefore);
        }
        return After(peakBefore);
    }

    /// <summary>The SAE at the fit's recipe (--autograd-sae: the autograd step instead of the managed one, for an A/B).</summary>
    private static void TrainSae(Args a, FitOptions fit, Tensor train, Tensor valid, double peakBefore)
    {
        random.manual_seed(a.Int("seed", 42));
        using var sae = new TopKSae(SaeConfig.ForDim(fit.Dim, fit.SaeWidthMultiplier, fit.SaeK));
        var saeOptions = fit.Sae with
        {
            MaxEpochs = a.Int("sae-epochs", 2), Patience = a.Int("sae-epochs", 2), Seed = a.Int("seed", 42),
            BatchSize = a.Int("sae-batch", fit.Sae.BatchSize), ManagedStep = !a.Flag("autograd-sae"),
        };
        Console.WriteLine($"SAE step: {(saeOptions.ManagedStep ? "managed" : "autograd")}, batch {saeOptions.BatchSize}");
        var saeProfile = new TrainingProfile();
        var saeResult = SaeTrainer.Train(sae, train, valid, saeOptions, profile: saeProfile, progress: new Curve());
        Report("SAE", saeProfile, saeResult, SaeEpochFlops(sae.Config, train.shape[0]), peakBefore);
    }

    private static int After(double peakBefore)
    {
        double peakAfter = SgemmPeak.Measure(seconds: 2);
        Console.WriteLine($"after: {SgemmPeak.Describe(peakAfter)}; shares above are of the 'before' peak, {peakBefore:F1}; " +
                          $"of the mean {(peakBefore + peakAfter) / 2:F1} multiply them by {peakBefore / ((peakBefore + peakAfter) / 2):F2}");
        return 0;
    }

    // Two float32 matrices as (rows, columns, data) each: the SAE's inputs, so SAE runs can skip SASRec.
    private static void WriteVectors(string path, Tensor train, Tensor valid)
    {
        using var writer = new BinaryWriter(File.Create(path));
        foreach (var t in new[] { train, valid })
        {
            using var dense = t.contiguous();
            writer.Write(dense.shape[0]);
            writer.Write(dense.shape[1]);
            writer.Write(dense.bytes);
        }
        Console.WriteLine($"SAE inputs written to {path}");
    }

    private static (Tensor Train, Tensor Valid) ReadVectors(string path)
    {
        using var reader = new BinaryReader(File.OpenRead(path));
        Tensor Next()
        {
            long rows = reader.ReadInt64(), columns = reader.ReadInt64();
            var t = empty(rows, columns);
            reader.BaseStream.ReadExactly(t.bytes);
            return t;
        }
        var train = Next();
        return (train, Next());
    }

    /// <summary>
    /// Per-epoch breakdown: each step part's seconds per epoch and share of the epoch, then validation; the epoch's model
    /// FLOPs per second as a share of the same-run peak.
    /// </summary>
    private static void Report(string stage, TrainingProfile profile, TrainingResult result, double epochFlops, double peak)
    {
        if (result.EpochsRun == 0) return;
        int epochs = result.EpochsRun;
        double epochSeconds = result.History.Sum(h => h.EpochTime.TotalSeconds) / epochs;
        double validation = result.History.Sum(h => h.ValidationTime.TotalSeconds) / epochs;
        double training = epochSeconds - validation;
        Console.WriteLine($"{stage}: {epochs} epoch(s), {profile.Steps / epochs} steps each; seconds per epoch {epochSeconds:F2} " +
                          $"(training {training:F2}, validation {validation:F2}); model FLOPs {epochFlops / 1e9:F0} G per epoch = " +
                          $"{epochFlops / training / 1e9:F1} GFLOP/s in training = {epochFlops / training / 1e9 / peak:P1} of the same-run peak");
        double accounted = 0;
        foreach (var (part, seconds) in profile.Parts)
        {
            accounted += seconds / epochs;
            Console.WriteLine($"  {part,-62} {seconds / epochs,8:F2} s  {seconds / epochs / epochSeconds,6:P1}");
        }
        Console.WriteLine($"  {"validation (every user / every vector)",-62} {validation,8:F2} s  {validation / epochSeconds,6:P1}");
        Console.WriteLine($"  {"not in a step (shuffle, epoch bookkeeping, snapshot)",-62} {training - accounted,8:F2} s  {(training - accounted) / epochSeconds,6:P1}");
        Console.WriteLine($"  projected at this pace: {epochSeconds:F1} s x 40 epochs = {epochSeconds * 40 / 60:F1} min; x 20 = {epochSeconds * 20 / 60:F1} min");
    }

    /// <summary>
    /// SASRec's model FLOPs for one epoch, counted as 3x the forward (backward ~ 2x): per input token and block the Q/K/V,
    /// attention (all L x L scores of its window), output projection and feed-forward matmuls, and the full-catalogue
    /// output layer per scored target.
    /// </summary>
    internal static double SasRecEpochFlops(SasRecConfig c, TrainingWindows windows)
    {
        double perBlock = 0;
        foreach (var w in windows.Items) perBlock += (double)w.Length * (2.0 * c.Dim * 3 * c.Dim + 4.0 * w.Length * c.Dim + 2.0 * c.Dim * c.Dim + 4.0 * c.Dim * c.FeedForward);
        double output = windows.Targets * 2.0 * c.Dim * (c.ItemCount + 1);
        return 3 * (c.Blocks * perBlock + output);
    }

    /// <summary>The SAE's model FLOPs for one epoch counted as dense: the encoder's matmul and its two backward matmuls per vector.</summary>
    internal static double SaeEpochFlops(SaeConfig c, long vectors) => 3 * 2.0 * c.InputDim * c.Width * vectors;

    /// <summary>Each epoch's line as it ends: the learning curve.</summary>
    private sealed class Curve : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress p) =>
            Console.WriteLine($"  curve {p.Stage} epoch {p.Epoch} loss {p.Loss:F4} {p.MetricName} {p.Metric:F4} lr {p.LearningRate:G3} " +
                              $"epoch {p.EpochTime.TotalSeconds:F1} s (validation {p.ValidationTime.TotalSeconds:F1} s)");
    }
}

/// <summary>
/// Single ops at the shapes of one SASRec training step at ML-1M scale (82 windows of 50 = 4,100 tokens, 2,048 scored
/// targets over 3,401 items) and of one SAE step (256 x 4096), wall time per call: which small op the forward pays for.
/// </summary>
internal static class TrainOpsBench
{
    public static int Run(Args a)
    {
        int n = a.Int("calls", 50);
        long b = 82, l = 50, d = 64;
        void Time(string name, Func<Tensor> op)
        {
            for (int i = 0; i < 3; i++) op().Dispose();
            var t = Stopwatch.StartNew();
            for (int i = 0; i < n; i++) op().Dispose();
            Console.WriteLine($"  {name,-58} {t.Elapsed.TotalMilliseconds / n,8:F3} ms");
        }
        Console.WriteLine($"per call, torch threads {get_num_threads()}:");
        using var x = randn(b, l, d);
        using var h = randn(b, l, 256);
        using var q = randn(b, 2, l, 32);
        using var mask = zeros(b, 1, l, l);
        using var w192 = randn(192, d);
        using var w256 = randn(256, d);
        using var w64 = randn(d, 256);
        using var lnw = ones(d);
        using var lnb = zeros(d);
        using var scores = randn(2048, 3401);
        using var targets = randint(1, 3401, [2048]);
        using var e = randn(3401, d);
        using var hs = randn(2048, d);
        Time("dropout [82,50,64] p=0.5", () => nn.functional.dropout(x, 0.5, true));
        Time("bernoulli_ [82,50,64] p=0.5 (in place)", () => x.clone().bernoulli_(0.5));
        Time("rand_like [82,50,64]", () => rand_like(x));
        Time("dropout [82,2,50,50] p=0.5 (attention probabilities)", () => nn.functional.dropout(mask.expand(b, 2, l, l).contiguous(), 0.5, true));
        var maskBuffer = new float[b * l * d];
        Time("FastDropout's mask fill alone, 262,400 floats", () => { FastDropout.Fill(maskBuffer, 0.5, 7); return empty(0); });
        Time("FastDropout.Mask [82,50,64] (seed draw, empty, fill)", () => FastDropout.Mask([b, l, d], 0.5));
        Time("FastDropout [82,50,64] p=0.5 (managed mask)", () => FastDropout.Apply(x, 0.5));
        Time("FastDropout [82,2,50,50] p=0.5", () => { using var probs = mask.expand(b, 2, l, l).contiguous(); return FastDropout.Apply(probs, 0.5); });
        using var qg = randn(b, 2, l, 32).requires_grad_(true);
        using var above = ones(l, l, dtype: ScalarType.Bool).triu(1);
        Time("attention fwd+bwd: sdpa causal, dropout 0.5 (libtorch)", () =>
        {
            using var s = NewDisposeScope();
            nn.functional.scaled_dot_product_attention(qg, qg, qg, null, 0.5, true).sum().backward();
            qg.grad!.zero_();
            return empty(0).MoveToOuterDisposeScope();
        });
        Time("attention fwd+bwd: explicit causal, FastDropout 0.5", () =>
        {
            using var s = NewDisposeScope();
            var scores = qg.matmul(qg.transpose(-2, -1)).mul_(0.17677669529663687).masked_fill_(above, float.NegativeInfinity);
            FastDropout.Apply(scores.softmax(-1), 0.5).matmul(qg).sum().backward();
            qg.grad!.zero_();
            return empty(0).MoveToOuterDisposeScope();
        });
        Time("attention fwd+bwd: sdpa causal, no dropout", () =>
        {
            using var s = NewDisposeScope();
            nn.functional.scaled_dot_product_attention(qg, qg, qg, null, 0, true).sum().backward();
            qg.grad!.zero_();
            return empty(0).MoveToOuterDisposeScope();
        });
        Time("gelu [82,50,256]", () => nn.functional.gelu(h));
        Time("layer_norm [82,50,64]", () => nn.functional.layer_norm(x, [d], lnw, lnb, 1e-12));
        Time("linear [82,50,64] -> 192", () => nn.functional.linear(x, w192));
        Time("linear [82,50,64] -> 256", () => nn.functional.linear(x, w256));
        Time("linear [82,50,256] -> 64", () => nn.functional.linear(h, w64));
        Time("sdpa [82,2,50,32] causal, no dropout", () => nn.functional.scaled_dot_product_attention(q, q, q, null, 0, true));
        Time("sdpa [82,2,50,32] causal, dropout 0.5", () => nn.functional.scaled_dot_product_attention(q, q, q, null, 0.5, true));
        Time("sdpa [82,2,50,32] float mask, dropout 0.5", () => nn.functional.scaled_dot_product_attention(q, q, q, mask, 0.5, false));
        Time("logits [2048,64] x [64,3401]", () => hs.matmul(e.t()));
        using var et = e.t().contiguous();
        using var outBuf = empty(2048, 3401);
        Time("logits as linear(h, E)", () => nn.functional.linear(hs, e));
        Time("logits h x E^T with E^T contiguous", () => hs.matmul(et));
        Time("logits E x h^T (transposed output)", () => e.matmul(hs.t()));
        Time("logits into a preallocated output (addmm_ beta 0)", () => { outBuf.addmm_(hs, e.t(), beta: 0, alpha: 1); return empty(0); });
        Time("logits [1024,64] x [64,3401] (half the rows)", () => hs.narrow(0, 0, 1024).matmul(e.t()));
        using var e3456 = randn(3456, d);
        Time("logits [2048,64] x [64,3456] (catalogue padded to 3456)", () => hs.matmul(e3456.t()));
        using var scoresT = randn(1, 3401, 2048);
        Time("cross_entropy over [1,3401,2048] (classes in dim 1)", () => nn.functional.cross_entropy(scoresT, targets.unsqueeze(0)));
        using var eg = randn(3401, d).requires_grad_(true);
        using var hg = randn(2048, d).requires_grad_(true);
        Time("output layer fwd+bwd: h x E^T, cross_entropy", () =>
        {
            using var s = NewDisposeScope();
            nn.functional.cross_entropy(hg.matmul(eg.t()), targets).backward();
            eg.grad!.zero_(); hg.grad!.zero_();
            return empty(0).MoveToOuterDisposeScope();
        });
        Time("output layer fwd+bwd: E x h^T, cross_entropy over dim 1", () =>
        {
            using var s = NewDisposeScope();
            nn.functional.cross_entropy(eg.matmul(hg.t()).unsqueeze(0), targets.unsqueeze(0)).backward();
            eg.grad!.zero_(); hg.grad!.zero_();
            return empty(0).MoveToOuterDisposeScope();
        });
        foreach (int cols in new[] { 3408, 3424, 3456, 3584 })
        {
            using var bias = zeros(cols).index_fill_(0, arange(3401, cols), float.NegativeInfinity);
            Time($"output layer fwd+bwd: E padded to {cols}, -inf bias (addmm)", () =>
            {
                using var s = NewDisposeScope();
                var padded = cat([eg, zeros(cols - 3401, d)], 0);
                nn.functional.cross_entropy(addmm(bias, hg, padded.t(), 1, 1), targets).backward();
                eg.grad!.zero_(); hg.grad!.zero_();
                return empty(0).MoveToOuterDisposeScope();
            });
        }
        var targetArray = targets.data<long>().ToArray().Select(t => (int)t).ToArray();
        Time("output layer fwd+bwd: E padded to 3456, FullSoftmaxCrossEntropy (fit's)", () =>
        {
            using var s = NewDisposeScope();
            var padded = cat([eg.detach(), zeros(3456 - 3401, d)], 0);
            var logits = hg.detach().matmul(padded.t());
            FullSoftmaxCrossEntropy.LossAndGradient(logits, 3401, targetArray);
            logits.matmul(padded);
            logits.t().matmul(hg.detach());
            return empty(0).MoveToOuterDisposeScope();
        });
        Time("clone [2048,3401]", () => scores.clone());
        foreach (int parts in new[] { 1, 2 })
            Time($"FullSoftmaxCrossEntropy alone, [2048,3401], {parts} part(s) (clone, loss, gradient)", () =>
            {
                using var s = NewDisposeScope();
                var logits = scores.clone();
                FullSoftmaxCrossEntropy.LossAndGradient(logits, 3401, targetArray, parts: parts);
                return empty(0).MoveToOuterDisposeScope();
            });
        Time("empty [2048,3401] + fill_(0)", () => empty(2048, 3401).fill_(0));
        Time("cross_entropy [2048,3401]", () => nn.functional.cross_entropy(scores, targets));
        Time("log_softmax [2048,3401]", () => scores.log_softmax(1));
        using var z = randn(256, 4096);
        using var xs = randn(256, d);
        using var wenc = randn(4096, d);
        Time("SAE encoder linear [256,64] -> 4096", () => nn.functional.linear(xs, wenc));
        Time("SAE topk 32 of [256,4096]", () => z.topk(32, dim: 1).values);
        using var x64 = randn(64, d);
        using var encBias = zeros(4096);
        Time("SAE batch 64: encoder linear alone", () => nn.functional.linear(x64, wenc, encBias));
        Time("SAE batch 64: encoder linear + managed top-k over 2 pool threads", () => { using var e64 = nn.functional.linear(x64, wenc, encBias); return TopKSelection.Indices(e64, 32, parts: 2); });
        Time("SAE batch 64: encoder linear + managed top-k on the calling thread", () => { using var e64 = nn.functional.linear(x64, wenc, encBias); return TopKSelection.Indices(e64, 32, parts: 1); });
        Time("SAE [256,4096]^T x [256,64] (encoder weight gradient)", () => z.t().matmul(xs));
        Time("SAE index_select 256x32 rows of [4096,64]", () => wenc.index_select(0, randint(0, 4096, [256 * 32])));
        return 0;
    }
}
