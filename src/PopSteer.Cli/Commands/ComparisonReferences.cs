using PopSteer.Core.Evaluation;
using PopSteer.Core.Scoring;

namespace PopSteer.Cli.Commands;

/// <summary>
/// The untuned reference rows `compare` shows beside the methods (MostPop, Last item). Their implementation belongs
/// to the evaluation code that `evaluate` also uses; this is where `compare` picks them up through
/// <see cref="IComparisonReference"/>, so the two verbs can never disagree about what the rows mean.
/// </summary>
internal static class ComparisonReferences
{
    public static IReadOnlyList<IComparisonReference> For(PopSteerModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        // MostPop and Last item arrive with the fit branch's ReferenceRecommenders; wired here when both are merged.
        return [];
    }
}
