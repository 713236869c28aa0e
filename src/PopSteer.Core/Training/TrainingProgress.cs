using System.Globalization;

namespace PopSteer.Core.Training;

/// <summary>
/// One progress report of a long step (`sasrec`, `sae`, `analyze`): where it is, the last training loss, the
/// validation metric (NDCG@10 for SASRec, FVU for the SAE) and the best so far, elapsed time and an estimate of the rest.
/// </summary>
public sealed record TrainingProgress(
    string Stage,
    int Epoch,
    int MaxEpochs,
    double Loss,
    string MetricName,
    double Metric,
    double BestMetric,
    bool Improved,
    TimeSpan Elapsed,
    TimeSpan? Eta)
{
    /// <summary>The learning rate of the epoch's last step (NaN where not applicable).</summary>
    public double LearningRate { get; init; } = double.NaN;
    /// <summary>Wall time of this epoch alone (training steps and validation).</summary>
    public TimeSpan EpochTime { get; init; }
    /// <summary>Wall time of this epoch's validation pass.</summary>
    public TimeSpan ValidationTime { get; init; }
    /// <summary>True when the ETA is the time to the earliest possible stop (early stopping may go on longer).</summary>
    public bool EtaIsLowerBound { get; init; }

    public override string ToString() => Stage == "analyze"
        // The analysis has no epochs or loss: it counts prefixes turned into synthetic head/tail users.
        ? $"analyze {Epoch:N0}/{MaxEpochs:N0} prefixes elapsed {Elapsed:hh\\:mm\\:ss}{(Eta is { } left ? $" eta {left:hh\\:mm\\:ss}" : "")}"
        // The rate shows where a schedule is: warm-up, the constant rate, the cool-down.
        : $"{Stage} epoch {Epoch}/{MaxEpochs} loss {Loss:F4} {MetricName} {Metric:F4} (best {BestMetric:F4}{(Improved ? ", improved" : "")}) " +
        $"{(double.IsNaN(LearningRate) ? "" : $"lr {LearningRate.ToString("0.0e+00", CultureInfo.InvariantCulture)} ")}elapsed {Elapsed:hh\\:mm\\:ss}{(Eta is { } eta ? $" eta {(EtaIsLowerBound ? ">=" : "")}{eta:hh\\:mm\\:ss}" : "")}";
}
