namespace PopSteer.Core.Steering;

/// <summary>
/// METHOD.md section 6 precomputed once per (model, alpha, N, sigma source): the shift vector that scoring adds to
/// the SAE pre-activation in one fused operation, z += Shift.
/// </summary>
public sealed class SteeringPlan
{
    private SteeringPlan(double alpha, int neurons, SigmaSource sigma, float[] shift, int[] selected)
    {
        Alpha = alpha;
        Neurons = neurons;
        Sigma = sigma;
        Shift = shift;
        Selected = selected;
    }

    public double Alpha { get; }
    /// <summary>The N asked for (the number actually touched is <see cref="Selected"/>.Length, at most the candidates).</summary>
    public int Neurons { get; }
    public SigmaSource Sigma { get; }
    /// <summary>shift_j = -sign(d_j) * w_j * sigma_j, zero for unselected latents. Length = SAE width.</summary>
    public float[] Shift { get; }
    /// <summary>Selected latents, by |d| descending.</summary>
    public IReadOnlyList<int> Selected { get; }

    /// <summary>True when the plan cannot change any score (alpha 0 or no neuron selected).</summary>
    public bool IsIdentity => Shift.All(s => s == 0);

    public static SteeringPlan Create(NeuronStats stats, double alpha, int neurons, SigmaSource sigma = SigmaSource.Opposite)
    {
        ArgumentNullException.ThrowIfNull(stats);
        if (double.IsNaN(alpha) || double.IsInfinity(alpha) || alpha < 0)
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "Steering strength alpha must be a finite number >= 0.");
        if (neurons < 0 || neurons > stats.Width)
            throw new ArgumentOutOfRangeException(nameof(neurons), neurons, $"The number of steered neurons must lie in 0..{stats.Width} (the SAE width).");

        var d = stats.CohenD;
        // Candidates: finite, non-zero d. Ties in |d| broken by latent index so a plan is reproducible.
        var candidates = Enumerable.Range(0, stats.Width).Where(j => float.IsFinite(d[j]) && d[j] != 0)
            .OrderByDescending(j => Math.Abs(d[j])).ThenBy(j => j).ToArray();
        var selected = candidates.Take(neurons).ToArray();
        var shift = new float[stats.Width];
        if (selected.Length == 0) return new SteeringPlan(alpha, neurons, sigma, shift, selected);

        double m = candidates.Min(j => Math.Abs((double)d[j]));   // over ALL candidates
        double bigM = selected.Max(j => Math.Abs((double)d[j]));  // over the selected ones
        foreach (int j in selected)
        {
            double w = bigM == m ? alpha / 2 : alpha * (Math.Abs((double)d[j]) - m) / (bigM - m);
            bool tailNeuron = d[j] < 0;
            double s = (tailNeuron, sigma) switch
            {
                (true, SigmaSource.Opposite) => stats.SigmaHead[j],
                (false, SigmaSource.Opposite) => stats.SigmaTail[j],
                (true, SigmaSource.Favoured) => stats.SigmaTail[j],
                _ => stats.SigmaHead[j],
            };
            // Tail neurons rise, head neurons fall.
            shift[j] = (float)((tailNeuron ? 1 : -1) * w * s);
        }
        return new SteeringPlan(alpha, neurons, sigma, shift, selected);
    }
}
