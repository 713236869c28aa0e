using System.Security.Cryptography;
using System.Text;

namespace PopSteer.Core.Data;

/// <summary>
/// Per-user item sequences in time order (METHOD.md section 1): rows sorted by timestamp, ties keep file order.
/// Users appear in order of their first row; with no vocabulary given, items get ids in order of first appearance.
/// </summary>
public sealed class SequenceDataset
{
    private SequenceDataset(ItemVocabulary items, string[] userIds, int[][] sequences, long interactions, long skippedRows, int skippedUsers)
    {
        Items = items;
        UserIds = userIds;
        Sequences = sequences;
        Interactions = interactions;
        SkippedRows = skippedRows;
        SkippedUsers = skippedUsers;
        Fingerprint = ComputeFingerprint(items, userIds, sequences);
    }

    public ItemVocabulary Items { get; }
    public IReadOnlyList<string> UserIds { get; }
    /// <summary>Time-ordered internal item ids per user (index aligned with <see cref="UserIds"/>).</summary>
    public IReadOnlyList<int[]> Sequences { get; }
    public long Interactions { get; }
    /// <summary>Rows whose item is not in the given vocabulary (scoring a model on new data); 0 when the vocabulary was built here.</summary>
    public long SkippedRows { get; }
    /// <summary>Users left with no known item because of <see cref="SkippedRows"/>.</summary>
    public int SkippedUsers { get; }
    /// <summary>SHA-256 (hex) of the user ids and their external item sequences: identifies the data a model was trained on.</summary>
    public string Fingerprint { get; }

    public static SequenceDataset FromInteractions(IReadOnlyList<Interaction> rows, ItemVocabulary? vocab = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        vocab ??= new ItemVocabulary(rows.Select(r => r.ItemId));
        var byUser = new Dictionary<string, List<(long Ts, int Order, int Item)>>(StringComparer.Ordinal);
        var userOrder = new List<string>();
        long skipped = 0;
        for (int i = 0; i < rows.Count; i++)
        {
            var r = rows[i];
            if (!byUser.TryGetValue(r.UserId, out var list))
            {
                list = [];
                byUser[r.UserId] = list;
                userOrder.Add(r.UserId);
            }
            if (!vocab.TryGetInternal(r.ItemId, out var item)) { skipped++; continue; }
            list.Add((r.Timestamp, i, item));
        }
        var users = new List<string>(userOrder.Count);
        var sequences = new List<int[]>(userOrder.Count);
        int skippedUsers = 0;
        foreach (var u in userOrder)
        {
            var list = byUser[u];
            if (list.Count == 0) { skippedUsers++; continue; }
            // OrderBy is stable: equal timestamps keep file order.
            sequences.Add(list.OrderBy(x => x.Ts).Select(x => x.Item).ToArray());
            users.Add(u);
        }
        return new SequenceDataset(vocab, users.ToArray(), sequences.ToArray(), rows.Count - skipped, skipped, skippedUsers);
    }

    private static string ComputeFingerprint(ItemVocabulary items, string[] users, int[][] sequences)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var sb = new StringBuilder();
        for (int u = 0; u < users.Length; u++)
        {
            sb.Clear().Append(users[u]).Append('\t');
            foreach (var i in sequences[u]) sb.Append(items.ToExternal(i)).Append(' ');
            sb.Append('\n');
            hash.AppendData(Encoding.UTF8.GetBytes(sb.ToString()));
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
