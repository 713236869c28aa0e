namespace PopSteer.Core.Training;

/// <summary>
/// Cuts each user's training sequence into SASRec input windows so that every training target is learned exactly
/// once, with the loss at every position of one forward (a window of w items yields up to w prefix samples).
/// <para>
/// A user with at most L + 1 training items needs one window, and its outputs are EXACTLY the per-prefix
/// representations RecBole trains on (left-aligned positions + causal mask). A longer user gets further windows of
/// L items that each end <c>stride</c> targets later; a window only scores the targets not yet covered, so each of
/// those sees between L - stride + 1 and L items of context (RecBole: exactly min(t, L)). stride = 1 is exact but
/// costs up to L times more forwards; stride = L halves the work of L/2 but leaves some targets with one item of
/// context. The default L/2 keeps every context at least L/2 + 1 items long at about twice the cost of stride L.
/// </para>
/// </summary>
public sealed class TrainingWindows
{
    private TrainingWindows(List<Window> windows, int maxLength, long targets)
    {
        Items = windows;
        MaxLength = maxLength;
        Targets = targets;
    }

    /// <summary>A window: the user's sequence index, the first input position, the input length and the first position whose target counts.</summary>
    public readonly record struct Window(int User, int Start, int Length, int FirstScored)
    {
        public int ScoredTargets => Length - FirstScored;
    }

    public IReadOnlyList<Window> Items { get; }
    public int MaxLength { get; }
    /// <summary>Training targets covered (= training samples).</summary>
    public long Targets { get; }
    /// <summary>Input positions computed per epoch (the cost of an epoch, in tokens).</summary>
    public long Tokens => Items.Sum(w => (long)w.Length);

    public static TrainingWindows Plan(IReadOnlyList<int[]> trainSequences, int maxLength, int stride)
    {
        if (stride < 1 || stride > maxLength)
            throw new ArgumentOutOfRangeException(nameof(stride), stride, $"The window stride must lie in 1..{maxLength} (the maximum length).");
        var windows = new List<Window>();
        long targets = 0;
        for (int u = 0; u < trainSequences.Count; u++)
        {
            int m = trainSequences[u].Length;      // items s_0..s_{m-1}; targets are s_1..s_{m-1}
            if (m < 2) continue;
            int lastTarget = m - 1;
            int covered = Math.Min(lastTarget, maxLength); // first window: inputs s_0..s_{covered-1}, targets s_1..s_covered
            windows.Add(new Window(u, 0, covered, 0));
            while (covered < lastTarget)
            {
                int end = Math.Min(covered + stride, lastTarget); // targets up to s_end
                int start = end - maxLength;                        // inputs s_start..s_{end-1}
                windows.Add(new Window(u, start, maxLength, covered - start));
                covered = end;
            }
            targets += lastTarget;
        }
        return new TrainingWindows(windows, maxLength, targets);
    }
}
