namespace PopSteer.Core.Training;

/// <summary>What `fit` (or one of its stages) did: the model directory, its version, the results and wall time per stage.</summary>
public sealed record FitReport(string Directory, string Version)
{
    public TrainingResult? SasRec { get; init; }
    public TrainingResult? Sae { get; init; }
    public TimeSpan? AnalyzeTime { get; init; }
    /// <summary>Stage name -> wall time (data preparation, sasrec, sae-inputs, sae, analyze, save).</summary>
    public IReadOnlyDictionary<string, TimeSpan> StageTimes { get; init; } = new Dictionary<string, TimeSpan>();
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();
    public bool Cancelled { get; init; }
    /// <summary>What the user should know about the result (e.g. SASRec not beating MostPop or Last item on validation).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}
