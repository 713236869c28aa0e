using PopSteer.Core.Data;
using PopSteer.Core.Metrics;
using PopSteer.Core.Scoring;
using PopSteer.Core.Steering;
using static TorchSharp.torch;

namespace PopSteer.Core.Evaluation;

/// <summary>
/// Full-ranking evaluation of a model on evaluation cases: one model call per batch, top-K per case, then the one
/// metrics path (<see cref="RankingEvaluator"/>) over the model's popularity groups.
/// </summary>
public static class Evaluator
{
    public static EvaluationResult Evaluate(PopSteerModel model, IReadOnlyList<EvaluationCase> cases, ScoringMethod method,
        SteeringPlan? plan = null, EvaluationOptions? options = null)
    {
        using var prepared = Prepare(model, cases, options);
        return Evaluate(prepared, method, plan, options);
    }

    /// <summary>Computes SASRec's user vectors for every case once (see <see cref="PreparedCases"/>).</summary>
    public static PreparedCases Prepare(PopSteerModel model, IReadOnlyList<EvaluationCase> cases, EvaluationOptions? options = null)
    {
        options ??= new EvaluationOptions();
        if (options.BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(options), options.BatchSize, "BatchSize must be positive.");
        var batches = new List<Tensor>();
        for (int start = 0; start < cases.Count; start += options.BatchSize)
        {
            var histories = Slice(cases, start, options.BatchSize).Select(c => c.History).ToArray();
            var vectors = model.UserVectors(histories);
            vectors.DetachFromDisposeScope();
            batches.Add(vectors);
        }
        return new PreparedCases(model, cases, batches, options.BatchSize);
    }

    public static EvaluationResult Evaluate(PreparedCases prepared, ScoringMethod method, SteeringPlan? plan = null, EvaluationOptions? options = null)
    {
        options ??= new EvaluationOptions();
        if (options.K < 1) throw new ArgumentOutOfRangeException(nameof(options), options.K, "K must be at least 1.");
        var cases = prepared.Cases;
        var lists = new int[cases.Count][];
        int index = 0;
        foreach (var vectors in prepared.VectorBatches)
        {
            using var scope = NewDisposeScope();
            var batch = Slice(cases, index, (int)vectors.shape[0]);
            var scores = prepared.Model.ScoresFromUserVectors(vectors, method, plan);
            var top = PopSteerModel.TopK(scores, batch.Select(c => c.History).ToArray(), options.K, options.MaskHistory);
            foreach (var list in top) lists[index++] = list.Select(r => r.Item).ToArray();
        }
        var metrics = RankingEvaluator.Evaluate(lists, cases.Select(c => c.Target).ToArray(), prepared.Model.Groups, options.K);
        return new EvaluationResult(metrics, lists);
    }

    private static EvaluationCase[] Slice(IReadOnlyList<EvaluationCase> cases, int start, int count) =>
        Enumerable.Range(start, Math.Min(count, cases.Count - start)).Select(i => cases[i]).ToArray();
}
