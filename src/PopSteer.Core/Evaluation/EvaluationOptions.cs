namespace PopSteer.Core.Evaluation;

/// <summary>How an evaluation is run; the defaults are METHOD.md section 1's protocol.</summary>
public sealed record EvaluationOptions
{
    public int K { get; init; } = 10;
    public int BatchSize { get; init; } = 1024;
    /// <summary>Remove history items from the ranking (the option; off in the protocol). Padding is never ranked either way.</summary>
    public bool MaskHistory { get; init; }
}
