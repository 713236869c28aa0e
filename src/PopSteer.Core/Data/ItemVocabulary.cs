using System.Collections.ObjectModel;

namespace PopSteer.Core.Data;

/// <summary>
/// Maps external item ids to the model's dense ids. Id 0 is padding and never an item, so real items
/// are 1..Count and a score row has Count + 1 columns.
/// </summary>
public sealed class ItemVocabulary
{
    public const int Padding = 0;

    private readonly Dictionary<string, int> _toInternal;
    private readonly string[] _toExternal; // index 0 unused (padding)

    public ItemVocabulary(IEnumerable<string> externalIdsInOrder)
    {
        var ids = new List<string> { string.Empty };
        _toInternal = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var id in externalIdsInOrder)
        {
            if (_toInternal.ContainsKey(id)) continue;
            _toInternal[id] = ids.Count;
            ids.Add(id);
        }
        _toExternal = ids.ToArray();
    }

    /// <summary>Number of real items (padding excluded).</summary>
    public int Count => _toExternal.Length - 1;

    /// <summary>External ids in internal order, padding excluded (what the manifest stores).</summary>
    public IReadOnlyList<string> ExternalIds => new ReadOnlyCollection<string>(_toExternal[1..]);

    public bool TryGetInternal(string externalId, out int internalId) => _toInternal.TryGetValue(externalId, out internalId);

    public int ToInternal(string externalId) =>
        _toInternal.TryGetValue(externalId, out var id) ? id : throw new KeyNotFoundException($"Item '{externalId}' is not in the vocabulary.");

    public string ToExternal(int internalId) =>
        internalId >= 1 && internalId < _toExternal.Length
            ? _toExternal[internalId]
            : throw new ArgumentOutOfRangeException(nameof(internalId), internalId, $"Item ids run from 1 to {Count}.");
}
