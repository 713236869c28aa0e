namespace PopSteer.Core.Reranking;

/// <summary>Hyperparameter checks shared by the re-rankers, so every refusal reads the same way.</summary>
internal static class RerankerArguments
{
    public static double NonNegative(double value, string method, string name)
    {
        if (!double.IsFinite(value) || value < 0)
            throw new ArgumentOutOfRangeException(name, value, $"{method}: {name} must be a finite number >= 0 (got {value}).");
        return value;
    }

    public static double Positive(double value, string method, string name)
    {
        if (!double.IsFinite(value) || value <= 0)
            throw new ArgumentOutOfRangeException(name, value, $"{method}: {name} must be a finite number > 0 (got {value}).");
        return value;
    }

    public static double OpenUnit(double value, string method, string name)
    {
        if (double.IsNaN(value) || value <= 0 || value >= 1)
            throw new ArgumentOutOfRangeException(name, value, $"{method}: {name} must lie strictly between 0 and 1 (got {value}).");
        return value;
    }

    public static double ClosedUnit(double value, string method, string name)
    {
        if (double.IsNaN(value) || value < 0 || value > 1)
            throw new ArgumentOutOfRangeException(name, value, $"{method}: {name} must lie in [0, 1] (got {value}).");
        return value;
    }

    public static int AtLeastOne(int value, string method, string name)
    {
        if (value < 1) throw new ArgumentOutOfRangeException(name, value, $"{method}: {name} must be at least 1 (got {value}).");
        return value;
    }

    public static void CheckCall(ScoreBatch scores, IReadOnlyList<int[]> histories, int k, int itemColumns, string method)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(histories);
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, $"{method}: the list length k must be at least 1.");
        if (histories.Count != scores.Users)
            throw new ArgumentException($"{method}: {scores.Users} score rows but {histories.Count} histories.", nameof(histories));
        if (scores.Columns != itemColumns)
            throw new ArgumentException($"{method}: score rows have {scores.Columns} columns but the item groups describe {itemColumns - 1} items (+1 padding).", nameof(scores));
    }
}
