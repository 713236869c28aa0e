namespace PopSteer.Retrainer;

/// <summary>
/// Live popularity against the serving model's. <see cref="JsDivergence"/> is in bits (log base 2), so it lies in
/// [0, 1]: 0 for identical distributions, 1 for disjoint ones. <see cref="HeadOverlap"/> is the share of the model's
/// head items that are still in the live head (1 = the head is unchanged). Both are NaN when nothing live is known.
/// </summary>
public sealed record DriftReport(
    string ModelVersion,
    double JsDivergence,
    double HeadOverlap,
    int ModelHeadItems,
    int LiveHeadItems,
    double LiveMass,
    double UnknownMass)
{
    /// <summary>Interactions counted when the live popularity was read (set by the worker).</summary>
    public long Events { get; init; }

    /// <summary>Share of the live interaction mass on items the model does not know (ignored by the comparison).</summary>
    public double UnknownShare => LiveMass + UnknownMass > 0 ? UnknownMass / (LiveMass + UnknownMass) : double.NaN;

    /// <summary>
    /// The JS divergence that sampling alone gives a live sample of this mass drawn from the model's own popularity
    /// (<see cref="DriftDetector.SamplingNoise"/>); 0 when not measured.
    /// </summary>
    public double SamplingNoiseJs { get; init; }

    /// <summary>The divergence beyond sampling noise: what the drift rule compares with its threshold.</summary>
    public double ExcessJs => double.IsNaN(JsDivergence) ? double.NaN : Math.Max(0, JsDivergence - (double.IsNaN(SamplingNoiseJs) ? 0 : SamplingNoiseJs));

    /// <summary>
    /// The JS divergence above its sampling noise reaches the threshold, or the head overlap is under its floor (a
    /// floor of 0 is off). Never when nothing is known.
    /// </summary>
    public bool Exceeds(double jsThreshold, double minHeadOverlap) =>
        !double.IsNaN(JsDivergence) && (ExcessJs >= jsThreshold || (minHeadOverlap > 0 && HeadOverlap < minHeadOverlap));
}
