using System.ComponentModel.DataAnnotations;

namespace PopSteer.Retrainer;

/// <summary>When the Retrainer fine-tunes SASRec (its item table grown by the new items) before refitting the SAE and neurons.</summary>
public enum SasRecFineTune
{
    Never,
    NewItems,
    Always,
}

/// <summary>Section "Retrainer", validated at start-up: a bad value stops the service with a message naming the key.</summary>
public sealed class RetrainerOptions
{
    public const string SectionName = "Retrainer";

    /// <summary>The tracker's own consumer group on popsteer.interactions (it must not share Ingest's partitions).</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Retrainer:GroupId is required.")]
    public string GroupId { get; set; } = "popsteer-retrainer";

    /// <summary>
    /// Refit when the Jensen-Shannon divergence (bits, 0..1) between live and model popularity, less what sampling alone
    /// gives a live sample of that size (<see cref="DriftDetector.SamplingNoise"/>), reaches this (0: whenever enough events arrived).
    /// </summary>
    [Range(0.0, 1.0, ErrorMessage = "Retrainer:DriftThreshold must be a Jensen-Shannon divergence in bits, between 0 and 1.")]
    public double DriftThreshold { get; set; } = 0.1;

    /// <summary>Also refit when fewer than this share of the model's head items are still in the live head (0 = off).</summary>
    [Range(0.0, 1.0, ErrorMessage = "Retrainer:MinHeadOverlap must be between 0 (off) and 1.")]
    public double MinHeadOverlap { get; set; } = 0.5;

    /// <summary>Interactions that must arrive after a refit (published or rejected) before the next one is tried.</summary>
    [Range(1, long.MaxValue, ErrorMessage = "Retrainer:MinEventsBetweenRefits must be at least 1.")]
    public long MinEventsBetweenRefits { get; set; } = 10_000;

    /// <summary>How often drift is measured (and a refit considered).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "1.00:00:00", ErrorMessage = "Retrainer:CheckInterval must be between 50 ms and 1 day.")]
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Half-life of an interaction's weight in the popularity counts, on the events' own clock (event time).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00", ErrorMessage = "Retrainer:PopularityHalfLife must be between 1 second and 3650 days.")]
    public TimeSpan PopularityHalfLife { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How often the tracker makes its counts durable in Redis and then commits its offsets.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00", ErrorMessage = "Retrainer:CheckpointInterval must be between 10 ms and 1 hour.")]
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Most recent users remembered for refits (their sequences are read from Redis at refit time).</summary>
    [Range(10, 10_000_000, ErrorMessage = "Retrainer:MaxUsers must be between 10 and 10000000.")]
    public int MaxUsers { get; set; } = 100_000;

    /// <summary>true: fine-tune the SAE on the recent users' vectors and then recompute the neuron statistics; false: only the statistics.</summary>
    public bool RefitSae { get; set; }

    [Range(1, 1000, ErrorMessage = "Retrainer:SaeEpochs must be between 1 and 1000.")]
    public int SaeEpochs { get; set; } = 10;

    [Range(1e-7, 1.0, ErrorMessage = "Retrainer:SaeLearningRate must be between 1e-7 and 1.")]
    public double SaeLearningRate { get; set; } = 1e-4;

    /// <summary>Synthetic head/tail user pairs for the neuron statistics (METHOD.md section 5).</summary>
    [Range(1, 10_000_000, ErrorMessage = "Retrainer:AnalysisPrefixes must be between 1 and 10000000.")]
    public int AnalysisPrefixes { get; set; } = 100_000;

    /// <summary>
    /// Validation: a refit whose SAE's FVU on held-out users is above this is not published, unless it is within
    /// <see cref="MaxFvuRiseVsServing"/> of the serving SAE's on the same users (this is the floor of that bound).
    /// </summary>
    [Range(0.0, 10.0, ErrorMessage = "Retrainer:MaxFvu must be between 0 and 10.")]
    public double MaxFvu { get; set; } = 0.5;

    /// <summary>
    /// Validation: the refit's FVU may be at most this share above the serving SAE's FVU on the same held-out users
    /// (its own SASRec's vectors of their histories): refused when FVU > max(MaxFvu, serving x (1 + this)). A model
    /// whose SAE never reached MaxFvu can still be refitted, but never made worse than it is.
    /// </summary>
    [Range(0.0, 10.0, ErrorMessage = "Retrainer:MaxFvuRiseVsServing must be between 0 and 10.")]
    public double MaxFvuRiseVsServing { get; set; } = 0.1;

    /// <summary>Validation: PopSteer's NDCG@10 at the current Steering alpha may be at most this share below SASRec's.</summary>
    [Range(0.0, 1.0, ErrorMessage = "Retrainer:MaxNdcgDrop must be between 0 and 1.")]
    public double MaxNdcgDrop { get; set; } = 0.1;

    /// <summary>Validation: PopSteer's NDCG@10 may be at most this share below the serving version's, on the same held-out users at the same steering.</summary>
    [Range(0.0, 1.0, ErrorMessage = "Retrainer:MaxNdcgDropVsServing must be between 0 and 1.")]
    public double MaxNdcgDropVsServing { get; set; } = 0.05;

    /// <summary>Validation: PopSteer's Gini@10 may be at most this much (absolute) above the serving version's.</summary>
    [Range(0.0, 1.0, ErrorMessage = "Retrainer:MaxGiniRiseVsServing must be between 0 and 1.")]
    public double MaxGiniRiseVsServing { get; set; } = 0.02;

    /// <summary>When SASRec is fine-tuned from the serving weights: Never, NewItems (when new items enter; default) or Always.</summary>
    [EnumDataType(typeof(SasRecFineTune), ErrorMessage = "Retrainer:SasRecFineTune must be Never, NewItems or Always.")]
    public SasRecFineTune SasRecFineTune { get; set; } = SasRecFineTune.NewItems;

    /// <summary>New items enter the model (item table grown, SASRec warm-started) when their share of the live popularity reaches this; 0 = never.</summary>
    [Range(0.0, 1.0, ErrorMessage = "Retrainer:NewItemsShare must be between 0 (never) and 1.")]
    // 0.06, not 0.02: on the drift bench (docs/retrainer.md, Measured answers) a refit started at a share of 0.025 came
    // too early to restore steering's tail share (the live groups were still the old ones); at 0.069 it did.
    public double NewItemsShare { get; set; } = 0.06;

    /// <summary>A new item enters only with at least this much live (decayed) popularity.</summary>
    [Range(0.0, 1e9, ErrorMessage = "Retrainer:NewItemMinCount must be between 0 and 1e9.")]
    public double NewItemMinCount { get; set; } = 5;

    /// <summary>Most new items one refit adds (memory: about 1 MiB of table and Adam state plus 16 MiB of logits per 1,000 at d = 64 and 2,048 targets a batch).</summary>
    [Range(1, 1_000_000, ErrorMessage = "Retrainer:MaxNewItems must be between 1 and 1000000.")]
    public int MaxNewItems { get; set; } = 10_000;

    [Range(1, 1000, ErrorMessage = "Retrainer:SasRecEpochs must be between 1 and 1000.")]
    public int SasRecEpochs { get; set; } = 5;

    [Range(1e-7, 1.0, ErrorMessage = "Retrainer:SasRecLearningRate must be between 1e-7 and 1.")]
    public double SasRecLearningRate { get; set; } = 1e-3;

    /// <summary>Wall-clock budget of the SASRec fine-tune; at the budget the best epoch so far is kept.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "Retrainer:SasRecTimeBudget must be between 1 second and 1 day.")]
    public TimeSpan SasRecTimeBudget { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Validation: steering must still lower Gini@10 below SASRec's.</summary>
    public bool RequireGiniReduction { get; set; } = true;

    /// <summary>Validation needs at least this many held-out users (with a known last item and history).</summary>
    [Range(1, 10_000_000, ErrorMessage = "Retrainer:MinValidationUsers must be between 1 and 10000000.")]
    public int MinValidationUsers { get; set; } = 100;

    /// <summary>Where downloaded and refitted model directories are written.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Retrainer:WorkDirectory is required.")]
    public string WorkDirectory { get; set; } = Path.Combine(Path.GetTempPath(), "popsteer-retrainer");

    /// <summary>cpu, cuda or auto.</summary>
    [RegularExpression("^(cpu|cuda|auto)$", ErrorMessage = "Retrainer:Device must be cpu, cuda or auto.")]
    public string Device { get; set; } = "cpu";

    public int Seed { get; set; } = 42;

    /// <summary>How long the lease that lets one instance write lasts unrenewed (renewed every third): a crashed holder's standby takes over after at most this.</summary>
    [Range(typeof(TimeSpan), "00:00:00.300", "01:00:00", ErrorMessage = "Retrainer:LeaseTtl must be between 300 ms and 1 hour.")]
    public TimeSpan LeaseTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>This instance's name in the lease; empty = host name, process id and a random suffix.</summary>
    public string InstanceId { get; set; } = "";
}
