namespace PopSteer.Core.Evaluation;

/// <summary>The two non-learned reference rows a trained SASRec must beat (see <see cref="ReferenceRecommenders"/>).</summary>
public enum ReferenceRecommender
{
    /// <summary>The K items most often a training target, the same list for everyone.</summary>
    MostPop,
    /// <summary>The user's most recent distinct items, most recent first, then MostPop to fill the list.</summary>
    LastItem,
}
