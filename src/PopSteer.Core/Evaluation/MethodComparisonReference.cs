using PopSteer.Core.Data;

namespace PopSteer.Core.Evaluation;

/// <summary>
/// An untuned reference recommender shown beside the methods in <see cref="MethodComparison"/> (MostPop, Last item:
/// what a trained model must beat). It sees the same cases (histories) as every method and returns top-K lists of internal
/// item ids. The implementations live with the evaluation code that owns them; this is only the seam the comparison
/// needs, so the comparison never re-implements them.
/// </summary>
public interface IComparisonReference
{
    /// <summary>The row's name in every report, e.g. "MostPop".</summary>
    string Name { get; }

    /// <summary>One list per case, in case order; only the histories may be read (the targets are what is scored).</summary>
    int[][] Recommend(IReadOnlyList<EvaluationCase> cases, int k);
}
