using TorchSharp;

namespace PopSteer.Core.Reranking;

/// <summary>
/// One batch of base score rows, row-major [Users, Columns] with column = internal item id and column 0 the
/// padding id. Re-rankers read rows from here; the top-C candidate lists that FA*IR and PCT both need are
/// computed once per batch and shared by every re-ranker (and every grid point) that asks for them.
/// </summary>
public sealed class ScoreBatch
{
    private readonly float[] _scores;
    private readonly Dictionary<int, int[][]> _candidates = [];

    public ScoreBatch(float[] scores, int users, int columns)
    {
        ArgumentNullException.ThrowIfNull(scores);
        if (users < 0 || columns < 1) throw new ArgumentOutOfRangeException(nameof(users), $"A score batch needs users >= 0 and columns >= 1 (got {users} x {columns}).");
        if ((long)users * columns != scores.Length)
            throw new ArgumentException($"Score buffer holds {scores.Length} values, expected {users} x {columns}.", nameof(scores));
        _scores = scores;
        Users = users;
        Columns = columns;
    }

    public int Users { get; }

    /// <summary>Items.Count + 1 (column 0 = padding).</summary>
    public int Columns { get; }

    /// <summary>Copies a CPU or GPU float tensor [B, Items + 1] (as returned by PopSteerModel.Scores) into a batch.</summary>
    public static ScoreBatch FromTensor(torch.Tensor scores)
    {
        ArgumentNullException.ThrowIfNull(scores);
        if (scores.dim() != 2) throw new ArgumentException($"Expected a [users, items + 1] score tensor, got shape [{string.Join(", ", scores.shape)}].", nameof(scores));
        using var scope = torch.NewDisposeScope();
        var cpu = scores.to(torch.CPU).to_type(torch.ScalarType.Float32).contiguous();
        return new ScoreBatch(cpu.data<float>().ToArray(), (int)scores.shape[0], (int)scores.shape[1]);
    }

    public ReadOnlySpan<float> Row(int user)
    {
        if ((uint)user >= (uint)Users) throw new ArgumentOutOfRangeException(nameof(user), user, $"Row outside 0..{Users - 1}.");
        return _scores.AsSpan(user * Columns, Columns);
    }

    /// <summary>
    /// The <paramref name="count"/> best-scored real items of a row (finite scores only, padding excluded), best
    /// first, ties by smaller id. Cached per count for the life of the batch.
    /// </summary>
    public int[] Candidates(int user, int count)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "The candidate count must be at least 1.");
        lock (_candidates)
        {
            if (!_candidates.TryGetValue(count, out var rows))
            {
                rows = new int[Users][];
                _candidates[count] = rows;
            }
            return rows[user] ??= TopItems.Select(Row(user), count);
        }
    }
}
