namespace PopSteer.Core.Scoring;

/// <summary>One entry of a top-K list: internal item id and its score.</summary>
public readonly record struct RankedItem(int Item, float Score);
