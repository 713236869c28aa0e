using static TorchSharp.torch;

namespace PopSteer.Core.Scoring;

/// <summary>
/// Packs histories into SASRec's input: the most recent <c>maxLength</c> items of each, left-aligned, right-padded
/// with 0, padded only to the longest history in the batch (the causal mask makes the extra padding irrelevant).
/// </summary>
public static class HistoryBatch
{
    public static (Tensor Items, Tensor Lengths) Create(IReadOnlyList<int[]> histories, int maxLength, int itemCount, Device device)
    {
        int b = histories.Count;
        if (b == 0) throw new ArgumentException("The batch holds no histories.", nameof(histories));
        int width = 1;
        for (int u = 0; u < b; u++)
        {
            var h = histories[u] ?? throw new ArgumentException($"History {u} is null.", nameof(histories));
            if (h.Length == 0) throw new ArgumentException($"History {u} is empty: a user needs at least one known item to be scored.", nameof(histories));
            width = Math.Max(width, Math.Min(h.Length, maxLength));
        }
        var items = new long[b * width];
        var lengths = new long[b];
        for (int u = 0; u < b; u++)
        {
            var h = histories[u];
            int len = Math.Min(h.Length, maxLength);
            int start = h.Length - len;
            for (int p = 0; p < len; p++)
            {
                int item = h[start + p];
                if (item < 1 || item > itemCount)
                    throw new ArgumentOutOfRangeException(nameof(histories), item, $"History {u} holds item id {item}, outside 1..{itemCount}.");
                items[u * width + p] = item;
            }
            lengths[u] = len;
        }
        return (tensor(items, [b, width], dtype: ScalarType.Int64, device: device), tensor(lengths, dtype: ScalarType.Int64, device: device));
    }
}
