namespace PopSteer.Core.Steering;

/// <summary>
/// The "neuron popularity scores" of METHOD.md section 5: per SAE latent, the mean and population std of the
/// pre-activation z over synthetic head users and tail users, and Cohen's d. d &gt; 0 favours popular items.
/// </summary>
public sealed class NeuronStats
{
    public NeuronStats(float[] muHead, float[] muTail, float[] sigmaHead, float[] sigmaTail, float[] cohenD)
    {
        int w = muHead.Length;
        if (muTail.Length != w || sigmaHead.Length != w || sigmaTail.Length != w || cohenD.Length != w)
            throw new ArgumentException("Every neuron statistic must have one value per SAE latent.");
        MuHead = muHead;
        MuTail = muTail;
        SigmaHead = sigmaHead;
        SigmaTail = sigmaTail;
        CohenD = cohenD;
    }

    public float[] MuHead { get; }
    public float[] MuTail { get; }
    public float[] SigmaHead { get; }
    public float[] SigmaTail { get; }
    public float[] CohenD { get; }
    public int Width => CohenD.Length;

    /// <summary>
    /// d = (mu_head - mu_tail) / sqrt((sigma_head^2 + sigma_tail^2) / 2), in double. A neuron constant across both
    /// groups gets d = 0 (no evidence either way) rather than 0/0; a constant but different one gets +-inf, which the
    /// steering plan skips as non-finite.
    /// </summary>
    public static double CohensD(double muHead, double muTail, double sigmaHead, double sigmaTail)
    {
        double pooled = Math.Sqrt((sigmaHead * sigmaHead + sigmaTail * sigmaTail) / 2);
        double diff = muHead - muTail;
        if (pooled == 0) return diff == 0 ? 0 : diff > 0 ? double.PositiveInfinity : double.NegativeInfinity;
        return diff / pooled;
    }

    /// <summary>Builds the statistics from per-neuron moments.</summary>
    public static NeuronStats FromMoments(double[] muHead, double[] muTail, double[] sigmaHead, double[] sigmaTail)
    {
        int w = muHead.Length;
        var d = new float[w];
        for (int j = 0; j < w; j++) d[j] = (float)CohensD(muHead[j], muTail[j], sigmaHead[j], sigmaTail[j]);
        static float[] F(double[] a) => Array.ConvertAll(a, x => (float)x);
        return new NeuronStats(F(muHead), F(muTail), F(sigmaHead), F(sigmaTail), d);
    }

    /// <summary>Latents ordered by |d| descending (finite, non-zero only): what `explain` lists.</summary>
    public IEnumerable<int> ByStrength() =>
        Enumerable.Range(0, Width).Where(j => float.IsFinite(CohenD[j]) && CohenD[j] != 0)
            .OrderByDescending(j => Math.Abs(CohenD[j])).ThenBy(j => j);
}
