using System.Globalization;

namespace PopSteer.Cli.Demo;

/// <summary>
/// When the demo turns the steering knob: "0:0,30:1.5,60:3" means alpha 0 from the start, 1.5 from 30 s, 3 from 60 s.
/// </summary>
internal sealed class AlphaSchedule
{
    private AlphaSchedule(IReadOnlyList<(TimeSpan At, double Alpha)> steps) => Steps = steps;

    public IReadOnlyList<(TimeSpan At, double Alpha)> Steps { get; }

    public static AlphaSchedule Parse(string text)
    {
        var steps = new List<(TimeSpan, double)>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var pieces = part.Split(':');
            if (pieces.Length != 2
                || !double.TryParse(pieces[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || seconds < 0 || !double.IsFinite(seconds)
                || !double.TryParse(pieces[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var alpha) || alpha < 0 || !double.IsFinite(alpha))
                throw new ArgumentException($"--alpha-schedule: '{part}' is not SECONDS:ALPHA with both finite and >= 0 (e.g. \"0:0,30:1.5,60:3\").");
            steps.Add((TimeSpan.FromSeconds(seconds), alpha));
        }
        if (steps.Count == 0) throw new ArgumentException("--alpha-schedule: give at least one SECONDS:ALPHA step.");
        return new AlphaSchedule(steps.OrderBy(s => s.Item1).ToArray());
    }

    /// <summary>The alpha in force at <paramref name="elapsed"/>; before the first step, <paramref name="initial"/>.</summary>
    public double AlphaAt(TimeSpan elapsed, double initial)
    {
        double alpha = initial;
        foreach (var (at, a) in Steps)
            if (at <= elapsed) alpha = a;
        return alpha;
    }

    public override string ToString() =>
        string.Join(", ", Steps.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.At.TotalSeconds:0}s→{s.Alpha:0.##}")));
}
