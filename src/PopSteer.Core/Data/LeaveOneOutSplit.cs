namespace PopSteer.Core.Data;

/// <summary>
/// Leave-one-out in time (METHOD.md section 1), with RecBole's rule for short users. A user with n items has n - 1
/// prefix samples (prefix -> next item); the last sample is the test case, the one before it the validation case,
/// the rest are training samples. As RecBole's leave-one-out does, a user keeps at least one training sample:
/// n = 1: no sample at all; n = 2: its one sample trains (no validation, no test case);
/// n = 3: one training sample and a test case, no validation case; n &gt;= 4: training, validation and test.
/// </summary>
public sealed class LeaveOneOutSplit
{
    private LeaveOneOutSplit(int[][] train, EvaluationCase[] validation, EvaluationCase[] test, long[] counts, int maxLength)
    {
        TrainSequences = train;
        Validation = validation;
        Test = test;
        TrainingTargetCounts = counts;
        MaxLength = maxLength;
    }

    /// <summary>Per user (same index as the dataset): the items of its training samples, s_0..s_m; prefix s_0..s_{t-1} predicts s_t for t = 1..m.
    /// Users without a training sample have an empty or one-item array.</summary>
    public IReadOnlyList<int[]> TrainSequences { get; }
    public IReadOnlyList<EvaluationCase> Validation { get; }
    public IReadOnlyList<EvaluationCase> Test { get; }
    /// <summary>c_i: how often item i is a training target (index = internal id, 0 unused). The popularity of section 4.</summary>
    public long[] TrainingTargetCounts { get; }
    public int MaxLength { get; }

    /// <summary>Number of training samples (prefixes).</summary>
    public long TrainingSamples => TrainSequences.Sum(s => (long)Math.Max(0, s.Length - 1));

    public static LeaveOneOutSplit Create(SequenceDataset data, int maxLength = 50)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (maxLength < 1) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "must be positive");
        var train = new int[data.Sequences.Count][];
        var valid = new List<EvaluationCase>();
        var test = new List<EvaluationCase>();
        var counts = new long[data.Items.Count + 1];
        for (int u = 0; u < data.Sequences.Count; u++)
        {
            var s = data.Sequences[u];
            int n = s.Length;
            int samples = n - 1;
            int held = Math.Min(2, Math.Max(0, samples - 1)); // RecBole: min(leave_one_num, samples - 1)
            int trainEnd = n - held;                           // training items are s[0..trainEnd)
            train[u] = s[..Math.Max(0, trainEnd)];
            for (int t = 1; t < trainEnd; t++) counts[s[t]]++;
            if (held == 2) valid.Add(Case(u, s, n - 2, maxLength));
            if (held >= 1) test.Add(Case(u, s, n - 1, maxLength));
        }
        return new LeaveOneOutSplit(train, valid.ToArray(), test.ToArray(), counts, maxLength);
    }

    private static EvaluationCase Case(int user, int[] s, int targetIndex, int maxLength)
    {
        int start = Math.Max(0, targetIndex - maxLength);
        return new EvaluationCase(user, s[start..targetIndex], s[targetIndex]);
    }
}
