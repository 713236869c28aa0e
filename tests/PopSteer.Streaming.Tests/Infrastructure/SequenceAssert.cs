using PopSteer.Streaming.Sequences;
using Xunit.Sdk;

namespace PopSteer.Streaming.Tests.Infrastructure;

public static class SequenceAssert
{
    /// <summary>Total items stored for these users (a cheap progress probe).</summary>
    public static async Task<long> StoredCount(SequenceStore store, IReadOnlyCollection<string> users) =>
        (await store.ReadManyAsync(users.ToArray())).Sum(s => (long)s.Entries.Count);

    /// <summary>Every user's stored item ids equal the ground truth exactly: nothing missing, nothing doubled, same order.</summary>
    public static async Task MatchesGroundTruth(SequenceStore store, IReadOnlyDictionary<string, string[]> truth)
    {
        var users = truth.Keys.ToArray();
        var stored = await store.ReadManyAsync(users);
        var wrong = new List<string>();
        for (var i = 0; i < users.Length; i++)
        {
            var expected = truth[users[i]];
            var actual = stored[i].ItemIds;
            if (!expected.SequenceEqual(actual))
                wrong.Add($"{users[i]}: expected {expected.Length} items [{string.Join(",", expected.TakeLast(5))}], stored {actual.Count} [{string.Join(",", actual.TakeLast(5))}]");
        }
        if (wrong.Count > 0)
            throw new XunitException($"{wrong.Count} of {users.Length} users differ from the ground truth:\n{string.Join('\n', wrong.Take(10))}");
    }
}
