using System.Globalization;

namespace PopSteer.Cli.Demo;

/// <summary>
/// The Retrainer as the demo runs it: the service's own keys, sized so that drift, refit, validation, publish and swap
/// all happen within the few minutes of the replay on a small machine. `--set KEY=VALUE` overrides any of them.
/// </summary>
internal static class DemoRetrainerSettings
{
    public static IEnumerable<KeyValuePair<string, string?>> For(DemoOptions options)
    {
        string S(double x) => x.ToString(CultureInfo.InvariantCulture);
        yield return new("Retrainer:WorkDirectory", Path.Combine(options.WorkDirectory, "retrainer"));
        yield return new("Retrainer:CheckInterval", "00:00:02");
        yield return new("Retrainer:CheckpointInterval", "00:00:01");
        // The replay stamps events with its own clock: a half-life of 2,000 replayed events follows the live stream
        // (the drift bench's --half-life-events; at 50 events/s, 40 s). The replay spaces event times at least 1 ms apart
        // (full speed, rate 0, exactly that), so in event time no stream runs faster than 1,000 events/s: above that
        // rate the half-life would fall below the 1 s the Retrainer accepts, and the demo stopped on its own settings.
        double eventsPerSecond = options.Rate > 0 ? Math.Min(options.Rate, 1000) : 1000;
        yield return new("Retrainer:PopularityHalfLife", TimeSpan.FromSeconds(2000 / eventsPerSecond).ToString("c", CultureInfo.InvariantCulture));
        yield return new("Retrainer:MinEventsBetweenRefits", S(Math.Max(500, options.Rate * 15)));
        yield return new("Retrainer:DriftThreshold", "0.1");
        yield return new("Retrainer:MinHeadOverlap", "0");
        // The Retrainer's own default. Measured (docs/retrainer.md): at 0.02-0.03 the refit starts while the live counts
        // are still the old popularity and its lift is below the stale model's; at ~0.07 the warm start wins it back.
        yield return new("Retrainer:NewItemsShare", "0.06");
        yield return new("Retrainer:SasRecEpochs", "3");
        yield return new("Retrainer:SasRecTimeBudget", "00:01:00");
        yield return new("Retrainer:SaeEpochs", "3");
        yield return new("Retrainer:SaeLearningRate", "0.0001");
        yield return new("Retrainer:AnalysisPrefixes", "20000");
        yield return new("Retrainer:LeaseTtl", "00:00:10");
    }
}
