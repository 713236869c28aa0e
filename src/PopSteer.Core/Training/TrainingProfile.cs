using System.Diagnostics;

namespace PopSteer.Core.Training;

/// <summary>
/// Wall time per part of the training steps, summed over everything a trainer ran (what `PopSteer.Bench train-profile`
/// prints). A trainer given one calls <see cref="Lap"/> between the parts of each step; libtorch runs CPU operations
/// synchronously, so a lap is that part's own time. Trainers take it as an optional argument: null costs nothing.
/// </summary>
public sealed class TrainingProfile
{
    private readonly List<string> _order = [];
    private readonly Dictionary<string, double> _seconds = new(StringComparer.Ordinal);
    private long _mark;

    /// <summary>Optimiser steps the parts were summed over.</summary>
    public long Steps { get; private set; }

    /// <summary>Starts a step: the next lap counts from here.</summary>
    public void StartStep()
    {
        Steps++;
        _mark = Stopwatch.GetTimestamp();
    }

    /// <summary>Adds the time since the last mark to <paramref name="part"/> and moves the mark.</summary>
    public void Lap(string part)
    {
        long now = Stopwatch.GetTimestamp();
        Add(part, Stopwatch.GetElapsedTime(_mark, now).TotalSeconds);
        _mark = now;
    }

    public void Add(string part, double seconds)
    {
        if (!_seconds.TryAdd(part, seconds)) _seconds[part] += seconds;
        else _order.Add(part);
    }

    /// <summary>The parts in the order they first ran, with their summed seconds.</summary>
    public IReadOnlyList<(string Part, double Seconds)> Parts => _order.Select(p => (p, _seconds[p])).ToArray();

    public void Clear()
    {
        _order.Clear();
        _seconds.Clear();
        Steps = 0;
    }
}
