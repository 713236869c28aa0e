namespace PopSteer.Core.Training;

/// <summary>What a training run ended with. The model holds the best epoch's weights.</summary>
/// <param name="BestMetric">Validation NDCG@10 (SASRec, higher is better) or FVU (SAE, lower is better) of the kept weights.</param>
/// <param name="Cancelled">True when stopped by the cancellation token; the best checkpoint so far is kept.</param>
public sealed record TrainingResult(int EpochsRun, int BestEpoch, double BestMetric, double LastLoss, bool Cancelled, TimeSpan Elapsed)
{
    public IReadOnlyList<TrainingProgress> History { get; init; } = [];
    /// <summary>SAE only: the s its inputs were divided by while it trained (1 = none); folded back into the weights.</summary>
    public double InputScale { get; init; } = 1.0;
}
