using System.Collections.Concurrent;
using PopSteer.Core.Scoring;

namespace PopSteer.Scorer;

/// <summary>
/// One loaded, verified model version as the scoring loop uses it. Owned by <see cref="ModelHolder"/>; disposed by
/// the loop once a newer version has taken its place, so no batch ever sees a disposed model.
/// </summary>
public sealed class ServingModel(string version, PopSteerModel model) : IDisposable
{
    private readonly ConcurrentDictionary<(double Alpha, int Neurons, int K), RankedItem[]> _fallback = new();

    /// <summary>The registry's version id (the first 16 hex digits of the manifest's SHA-256).</summary>
    public string Version { get; } = version;

    public PopSteerModel Model { get; } = model;

    public DateTimeOffset LoadedAt { get; } = DateTimeOffset.UtcNow;

    /// <summary>
    /// The steered global list (<see cref="FallbackMode.SteeredGlobal"/>): the model's steered top-K for a generic
    /// mainstream user, whose history is the most popular training items, least popular first so the most popular
    /// is the most recent. Computed once per (alpha, N, K).
    /// </summary>
    public RankedItem[] SteeredGlobalList(ActiveSteering steering, int k) =>
        _fallback.GetOrAdd((steering.Alpha, steering.Neurons, k), _ =>
        {
            var counts = Model.Groups.Counts;
            var history = Enumerable.Range(1, counts.Length - 1)
                .OrderByDescending(i => counts[i]).ThenBy(i => i)
                .Take(Model.MaxLength)
                .Reverse()
                .ToArray();
            return history.Length == 0 ? [] : Model.Recommend([history], ScoringMethod.PopSteer, steering.Plan, k)[0];
        });

    public void Dispose() => Model.Dispose();
}
