using PopSteer.Core.Data;
using PopSteer.Core.Scoring;
using static TorchSharp.torch;

namespace PopSteer.Core.Evaluation;

/// <summary>
/// Evaluation cases with SASRec's user vectors computed once, so a sweep over many (alpha, N) pays for SASRec once
/// and only reruns the SAE and the item scoring. Holds native memory: dispose it.
/// </summary>
public sealed class PreparedCases : IDisposable
{
    private readonly List<Tensor> _vectors;

    internal PreparedCases(PopSteerModel model, IReadOnlyList<EvaluationCase> cases, List<Tensor> vectorBatches, int batchSize)
    {
        Model = model;
        Cases = cases;
        _vectors = vectorBatches;
        BatchSize = batchSize;
    }

    public PopSteerModel Model { get; }
    public IReadOnlyList<EvaluationCase> Cases { get; }
    public int BatchSize { get; }
    internal IReadOnlyList<Tensor> VectorBatches => _vectors;

    public void Dispose()
    {
        foreach (var v in _vectors) v.Dispose();
        _vectors.Clear();
    }
}
