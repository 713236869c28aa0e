using PopSteer.Core.Metrics;

namespace PopSteer.Core.Evaluation;

/// <summary>Metrics and the top-K lists they were computed from (internal ids, one list per case, in case order).</summary>
public sealed record EvaluationResult(MetricSet Metrics, int[][] Lists);
