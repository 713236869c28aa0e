namespace PopSteer.Chaos;

/// <summary>
/// The seeded plan: every enabled fault once per target (a process fault once per replica when
/// <see cref="DrillOptions.EveryReplica"/>, else at one seeded replica), shuffled, one per slot of the replay with a
/// seeded jitter. The first slot is left clean as a baseline. Same seed and options, same plan.
/// </summary>
public static class FaultSchedule
{
    public static IReadOnlyList<FaultInjection> Plan(DrillOptions options, IReadOnlyDictionary<string, IReadOnlyList<string>> replicas)
    {
        var rng = new Random(options.Seed);
        var planned = new List<(FaultKind Kind, string? Target)>();
        foreach (var kind in Faults.All.Where(options.Faults.Contains))
        {
            var service = Faults.Service(kind);
            if (service is null)
            {
                for (int i = 0; i < (kind == FaultKind.AlphaEdit ? options.AlphaEdits : 1); i++) planned.Add((kind, null));
                continue;
            }
            if (!replicas.TryGetValue(service, out var names) || names.Count == 0) continue;
            if (options.EveryReplica)
                foreach (var name in names) planned.Add((kind, name));
            else
                planned.Add((kind, names[rng.Next(names.Count)]));
        }
        // Fisher-Yates with the drill's seed.
        for (int i = planned.Count - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (planned[i], planned[j]) = (planned[j], planned[i]);
        }
        double slot = options.Duration.TotalSeconds / (planned.Count + 1);
        return planned.Select((p, i) => new FaultInjection(Math.Round(slot * (i + 1) + rng.NextDouble() * slot * 0.3, 1), p.Kind, p.Target)).ToArray();
    }
}
