using PopSteer.Core.Data;
using PopSteer.Core.Evaluation;
using PopSteer.Core.Scoring;

namespace PopSteer.Cli.Commands;

/// <summary>
/// The untuned reference rows `compare` shows beside the methods (MostPop, Last item). Their implementation is the
/// evaluation code that `evaluate` also uses (<see cref="ReferenceRecommenders"/>); this is where `compare` picks them
/// up through <see cref="IComparisonReference"/>, so the two verbs can never disagree about what the rows mean.
/// </summary>
internal static class ComparisonReferences
{
    public static IReadOnlyList<IComparisonReference> For(PopSteerModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return [new Reference(ReferenceRecommender.MostPop, model.Groups), new Reference(ReferenceRecommender.LastItem, model.Groups)];
    }

    private sealed class Reference(ReferenceRecommender method, PopularityGroups groups) : IComparisonReference
    {
        public string Name => ReferenceRecommenders.DisplayName(method);

        public int[][] Recommend(IReadOnlyList<EvaluationCase> cases, int k) => ReferenceRecommenders.Lists(method, groups, cases, k);
    }
}
