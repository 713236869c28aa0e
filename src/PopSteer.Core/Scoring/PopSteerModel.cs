using System.Collections.Concurrent;
using PopSteer.Core.Data;
using PopSteer.Core.Model;
using PopSteer.Core.Steering;
using PopSteer.Core.Storage;
using TorchSharp;
using static TorchSharp.torch;

namespace PopSteer.Core.Scoring;

/// <summary>
/// A loaded, verified model directory ready to score: SASRec (eval), the SAE, the neuron statistics and the
/// popularity groups. Thread-safe for concurrent scoring (no gradients, no mutable state except the plan cache).
/// </summary>
public sealed class PopSteerModel : IDisposable
{
    private readonly SasRec _sasRec;
    private readonly TopKSae _sae;
    private readonly Device _device;
    private readonly ConcurrentDictionary<(double Alpha, int Neurons, SigmaSource Sigma), (SteeringPlan Plan, Tensor Shift)> _plans = new();
    private readonly Tensor _scoreBias;
    private readonly SmallBatchScorer? _smallBatch;
    private bool _disposed;

    private PopSteerModel(string directory, ModelManifest manifest, SasRec sasRec, TopKSae sae, NeuronStats neurons, PopularityGroups groups, Device device)
    {
        Directory = directory;
        Manifest = manifest;
        Items = ModelDirectory.LoadItems(manifest);
        _sasRec = sasRec;
        _sae = sae;
        Neurons = neurons;
        Groups = groups;
        _device = device;
        _sasRec.to(device);
        _sasRec.Freeze();
        _sae.to(device).eval();
        // Added to every score row: -inf for column 0 (padding, never recommended), 0 elsewhere, so the item-score
        // matmul and the masking are one addmm.
        var bias = new float[_sasRec.ItemEmbeddings.shape[0]];
        bias[0] = float.NegativeInfinity;
        _scoreBias = tensor(bias, device: device).DetachFromDisposeScope();
        // Managed SIMD scoring for the few-user batches a streaming Scorer mostly sees; CPU models only.
        if (device.type == DeviceType.CPU && System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated)
            _smallBatch = new SmallBatchScorer(_sasRec, _sae);
    }

    /// <summary>
    /// <see cref="Recommend"/> scores batches of at most this many users in managed code (<see cref="SmallBatchScorer"/>)
    /// and larger ones through libtorch; 0 always uses libtorch. On this project's 2-core machine the managed path is
    /// faster at every batch size measured, 1 to 1,024 users, on one thread and on two (`PopSteer.Bench scoring`,
    /// docs/speed.md), so the default sends every batch a Scorer makes there. Ignored on a GPU or a CPU without 256-bit SIMD.
    /// </summary>
    public int SmallBatchLimit { get; set; } = DefaultSmallBatchLimit;

    public const int DefaultSmallBatchLimit = 4096;

    /// <summary>
    /// Threads the managed path splits a batch over (at least 8 users each); 0, the default, follows libtorch's
    /// intra-op thread count, so `--threads` and `Scoring:TorchThreads` govern both paths alike.
    /// </summary>
    public int Parallelism
    {
        get => _parallelism;
        set => _parallelism = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Parallelism must be 0 (libtorch's thread count) or positive.");
    }

    private int _parallelism;

    /// <summary>True when this model has the managed small-batch path (a CPU model on a CPU with 256-bit SIMD).</summary>
    public bool HasSmallBatchPath => _smallBatch is not null;

    /// <summary>Verifies every file's SHA-256 and every parameter shape, then loads. Throws <see cref="ModelFormatException"/>.</summary>
    public static PopSteerModel Load(string directory, string device = "cpu")
    {
        var dev = TorchRuntime.ResolveDevice(device);
        var manifest = ModelDirectory.Verify(directory);
        var sasRec = ModelDirectory.LoadSasRec(directory, manifest);
        var sae = ModelDirectory.LoadSae(directory, manifest);
        var neurons = ModelDirectory.LoadNeurons(directory, manifest);
        var groups = ModelDirectory.LoadGroups(directory, manifest);
        return new PopSteerModel(directory, manifest, sasRec, sae, neurons, groups, dev);
    }

    public string Directory { get; }
    public string Version => Manifest.Version;
    public ModelManifest Manifest { get; }
    public ItemVocabulary Items { get; }
    public NeuronStats Neurons { get; }
    public PopularityGroups Groups { get; }
    public int MaxLength => _sasRec.Config.MaxLength;
    public int SaeWidth => _sae.Width;
    public int Dim => _sasRec.Config.Dim;
    public Device Device => _device;

    /// <summary>The steering plan for (alpha, N) with the default sigma source, computed once and cached.</summary>
    public SteeringPlan PlanFor(double alpha, int neurons) => CachedPlan(alpha, neurons, SigmaSource.Opposite).Plan;

    /// <summary>The plan with an explicit sigma source (the METHOD.md section 6 option), also cached.</summary>
    public SteeringPlan PlanFor(double alpha, int neurons, SigmaSource sigma) => CachedPlan(alpha, neurons, sigma).Plan;

    /// <summary>
    /// One batched model call: a CPU float tensor [B, Items.Count + 1] of scores, column 0 (padding) = -inf.
    /// SasRec ignores <paramref name="plan"/>; Sae scores the unsteered reconstruction; PopSteer needs a plan.
    /// The caller owns (disposes) the result.
    /// </summary>
    public Tensor Scores(IReadOnlyList<int[]> histories, ScoringMethod method, SteeringPlan? plan = null)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = UserVectorsCore(histories);
        return ScoresFromUserVectors(x, method, plan).MoveToOuterDisposeScope();
    }

    /// <summary>SASRec's x_u for each history, [B, d] on the model's device. Lets sweeps score many plans from one SASRec pass.</summary>
    public Tensor UserVectors(IReadOnlyList<int[]> histories)
    {
        using var _ = no_grad();
        return UserVectorsCore(histories);
    }

    /// <summary>Scores from precomputed <see cref="UserVectors"/>; same contract as <see cref="Scores"/>.</summary>
    public Tensor ScoresFromUserVectors(Tensor userVectors, ScoringMethod method, SteeringPlan? plan = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = method switch
        {
            ScoringMethod.SasRec => userVectors,
            ScoringMethod.Sae => _sae.Reconstruct(userVectors),
            ScoringMethod.PopSteer => _sae.Reconstruct(userVectors, ShiftFor(plan ?? throw new ArgumentNullException(nameof(plan), "PopSteer scoring needs a steering plan (PlanFor(alpha, neurons))."))),
            _ => throw new ArgumentOutOfRangeException(nameof(method), method, "unknown scoring method"),
        };
        var scores = _scoreBias.addmm(x, _sasRec.ItemEmbeddings.t());
        if (scores.device_type != DeviceType.CPU) scores = scores.cpu();
        return scores.MoveToOuterDisposeScope();
    }

    /// <summary>Top-k per history. The padding id is never returned; seen items are removed only when asked.</summary>
    public RankedItem[][] Recommend(IReadOnlyList<int[]> histories, ScoringMethod method, SteeringPlan? plan, int k, bool excludeSeen = false)
    {
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1.");
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_smallBatch is not null && histories.Count <= SmallBatchLimit && histories.Count > 0)
        {
            float[]? shift = null;
            if (method == ScoringMethod.PopSteer)
            {
                ArgumentNullException.ThrowIfNull(plan, nameof(plan));
                shift = CheckedShift(plan);
            }
            else if (method is not (ScoringMethod.SasRec or ScoringMethod.Sae))
                throw new ArgumentOutOfRangeException(nameof(method), method, "unknown scoring method");
            return _smallBatch.Recommend(histories, method, shift, k, excludeSeen, _parallelism > 0 ? _parallelism : get_num_threads());
        }
        using var scope = NewDisposeScope();
        var scores = Scores(histories, method, plan);
        return TopK(scores, histories, k, excludeSeen);
    }

    /// <summary>
    /// PopSteer's top-k for every history and, from the same SASRec pass, plain SASRec's top-k for the histories marked
    /// in <paramref name="alsoUnsteered"/> (null for the others): the unsteered counterfactual of a sample (the Scorer's
    /// shadow) costs one item product per marked user instead of a second model call. Each list equals what
    /// <see cref="Recommend"/> gives for that method alone. <paramref name="parallelism"/> overrides
    /// <see cref="Parallelism"/> for this call only (a Scorer scoring two batches at once gives each one thread); the
    /// rankings do not depend on it.
    /// </summary>
    public (RankedItem[][] Steered, RankedItem[]?[] Unsteered) RecommendWithUnsteered(
        IReadOnlyList<int[]> histories, SteeringPlan plan, int k, IReadOnlyList<bool> alsoUnsteered, bool excludeSeen = false, int? parallelism = null)
    {
        if (parallelism is < 1) throw new ArgumentOutOfRangeException(nameof(parallelism), parallelism, "parallelism must be at least 1 (or null: the model's Parallelism).");
        ArgumentNullException.ThrowIfNull(plan);
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1.");
        if (alsoUnsteered.Count != histories.Count)
            throw new ArgumentException($"{alsoUnsteered.Count} marks for {histories.Count} histories.", nameof(alsoUnsteered));
        ObjectDisposedException.ThrowIf(_disposed, this);
        var unsteered = new RankedItem[]?[histories.Count];
        if (histories.Count == 0) return ([], unsteered);
        if (_smallBatch is not null && histories.Count <= SmallBatchLimit)
        {
            var steered = _smallBatch.Recommend(histories, ScoringMethod.PopSteer, CheckedShift(plan), k, excludeSeen,
                parallelism ?? (_parallelism > 0 ? _parallelism : get_num_threads()), alsoUnsteered, unsteered);
            return (steered, unsteered);
        }
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = UserVectorsCore(histories);
        var lists = TopK(ScoresFromUserVectors(x, ScoringMethod.PopSteer, plan), histories, k, excludeSeen);
        var marked = Enumerable.Range(0, histories.Count).Where(i => alsoUnsteered[i]).ToArray();
        if (marked.Length > 0)
        {
            var rows = x.index_select(0, tensor(marked.Select(i => (long)i).ToArray(), device: x.device));
            var plain = TopK(ScoresFromUserVectors(rows, ScoringMethod.SasRec), marked.Select(i => histories[i]).ToArray(), k, excludeSeen);
            for (int j = 0; j < marked.Length; j++) unsteered[marked[j]] = plain[j];
        }
        return (lists, unsteered);
    }

    private float[] CheckedShift(SteeringPlan plan)
    {
        if (plan.Shift.Length != SaeWidth)
            throw new ArgumentException($"The plan steers {plan.Shift.Length} neurons but this model's SAE has {SaeWidth}.", nameof(plan));
        return plan.Shift;
    }

    /// <summary>Top-k of a score tensor from <see cref="Scores"/>; with <paramref name="excludeSeen"/> every item of the history is masked.</summary>
    public static RankedItem[][] TopK(Tensor scores, IReadOnlyList<int[]> histories, int k, bool excludeSeen)
    {
        using var scope = NewDisposeScope();
        int b = (int)scores.shape[0];
        int n = (int)scores.shape[1] - 1;
        if (excludeSeen)
        {
            scores = scores.clone();
            for (int u = 0; u < b; u++)
            {
                if (histories[u].Length == 0) continue;
                using var seen = tensor(histories[u].Select(i => (long)i).ToArray());
                scores[u].index_fill_(0, seen, Scalars.NegativeInfinity);
            }
        }
        int kk = Math.Min(k, n);
        var (values, indices) = scores.topk(kk, dim: 1);
        var v = values.data<float>().ToArray();
        var ix = indices.data<long>().ToArray();
        var result = new RankedItem[b][];
        for (int u = 0; u < b; u++)
        {
            var list = new List<RankedItem>(kk);
            for (int r = 0; r < kk; r++)
            {
                float s = v[u * kk + r];
                // -inf entries are padding or masked history items: never a recommendation.
                if (float.IsNegativeInfinity(s)) break;
                list.Add(new RankedItem((int)ix[u * kk + r], s));
            }
            result[u] = list.ToArray();
        }
        return result;
    }

    /// <summary>
    /// For `explain`: the dense SAE pre-activation z of every single-item user [i], as a CPU tensor [Items.Count, h]
    /// (row r is internal item r + 1). The caller owns the result.
    /// </summary>
    public Tensor SingleItemPreActivations(int batchSize = 1024)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var parts = new List<Tensor>();
        for (int start = 1; start <= Items.Count; start += batchSize)
        {
            int end = Math.Min(Items.Count, start + batchSize - 1);
            var histories = Enumerable.Range(start, end - start + 1).Select(i => new[] { i }).ToArray();
            var z = _sae.PreActivation(UserVectorsCore(histories));
            parts.Add(z.cpu());
        }
        return cat(parts, 0).MoveToOuterDisposeScope();
    }

    private Tensor UserVectorsCore(IReadOnlyList<int[]> histories)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var scope = NewDisposeScope();
        var (items, lengths) = HistoryBatch.Create(histories, MaxLength, Items.Count, _device);
        return _sasRec.UserVectors(items, lengths).MoveToOuterDisposeScope();
    }

    private (SteeringPlan Plan, Tensor Shift) CachedPlan(double alpha, int neurons, SigmaSource sigma) =>
        _plans.GetOrAdd((alpha, neurons, sigma), key =>
        {
            var plan = SteeringPlan.Create(Neurons, key.Alpha, key.Neurons, key.Sigma);
            var shift = tensor(plan.Shift, device: _device);
            shift.DetachFromDisposeScope();
            return (plan, shift);
        });

    private Tensor ShiftFor(SteeringPlan plan)
    {
        if (plan.Shift.Length != SaeWidth)
            throw new ArgumentException($"The plan steers {plan.Shift.Length} neurons but this model's SAE has {SaeWidth}.", nameof(plan));
        if (_plans.TryGetValue((plan.Alpha, plan.Neurons, plan.Sigma), out var cached) && ReferenceEquals(cached.Plan, plan)) return cached.Shift;
        // A plan made with SteeringPlan.Create directly: a per-call tensor, owned by the caller's dispose scope.
        return tensor(plan.Shift, device: _device);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var (_, shift) in _plans.Values) shift.Dispose();
        _plans.Clear();
        _scoreBias.Dispose();
        _smallBatch?.Dispose();
        _sasRec.Dispose();
        _sae.Dispose();
    }
}
