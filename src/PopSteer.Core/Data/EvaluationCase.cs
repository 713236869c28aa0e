namespace PopSteer.Core.Data;

/// <summary>One held-out prediction: the user's index in the dataset, up to maxLength most recent items before the target, and the target.</summary>
public sealed record EvaluationCase(int User, int[] History, int Target);
