using System.CommandLine;
using PopSteer.Cli.Demo;

namespace PopSteer.Cli.Commands;

/// <summary>`popsteer demo`: the end-to-end pipeline on one machine with embedded Redis and Kafka (see DemoRunner).</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var defaults = new DemoOptions();
        var data = CommonOptions.Data(required: false);
        data.Description = "Interaction file to fit and replay (default: a generated data set).";
        var format = CommonOptions.Format();
        var model = CommonOptions.Model(required: false);
        model.Description = "Serve this model directory instead of fitting one (it must match the data's item ids).";
        var rate = new Option<double>("--rate") { Description = "Events per second of the live replay; 0 = as fast as possible.", DefaultValueFactory = _ => defaults.Rate };
        var schedule = new Option<string>("--alpha-schedule") { Description = "SECONDS:ALPHA steps, e.g. \"0:0,30:1.5,60:3\".", DefaultValueFactory = _ => DemoOptions.DefaultSchedule };
        var driftAt = new Option<double>("--drift-at") { Description = "Share of the live stream after which popularity drifts (head items fade into new items, tail items rise).", DefaultValueFactory = _ => defaults.DriftAt ?? 0.3 };
        var noDrift = new Option<bool>("--no-drift") { Description = "Replay the held-out events unchanged (no drift)." };
        var set = new Option<string[]>("--set") { Description = "KEY=VALUE configuration for the hosted services, e.g. --set Retrainer:SasRecFineTune=Never (repeatable).", AllowMultipleArgumentsPerToken = false };
        var holdout = new Option<double>("--holdout") { Description = "Share of each user's latest events replayed live (the rest trains).", DefaultValueFactory = _ => defaults.Holdout };
        var duration = new Option<double?>("--duration") { Description = "Stop after this many seconds (default: when every event is served)." };
        var users = new Option<int>("--users") { Description = "Generated data: users.", DefaultValueFactory = _ => defaults.GeneratedUsers };
        var items = new Option<int>("--items") { Description = "Generated data: items.", DefaultValueFactory = _ => defaults.GeneratedItems };
        var interactions = new Option<int>("--interactions") { Description = "Generated data: interactions.", DefaultValueFactory = _ => defaults.GeneratedInteractions };
        var epochs = new Option<int>("--epochs") { Description = "SASRec epoch cap when fitting.", DefaultValueFactory = _ => defaults.Epochs };
        var saeEpochs = new Option<int>("--sae-epochs") { Description = "SAE epoch cap when fitting.", DefaultValueFactory = _ => defaults.SaeEpochs };
        var seed = CommonOptions.Seed();
        var keepLog = new Option<bool>("--keep-broker-log") { Description = "Keep every record on the embedded broker instead of trimming behind the committed offsets (the mock's fetch then slows down as its logs grow)." };
        var shadowEvery = new Option<int>("--shadow-every") { Description = "Score every N-th served user again unsteered (and with the stale model after a refit) for the summary's comparison.", DefaultValueFactory = _ => defaults.ShadowSampleEvery };
        var brokers = new Option<int>("--brokers") { Description = "Brokers in the embedded Kafka cluster.", DefaultValueFactory = _ => defaults.Brokers };
        var plain = new Option<bool>("--plain") { Description = "Print a status line every 5 s instead of the live table (also when output is redirected)." };

        var command = new Command("demo", "Run the whole streaming pipeline on this machine: Redis, embedded Kafka, Ingest, Scorer, live alpha.")
        {
            data, format, model, rate, schedule, driftAt, noDrift, set, holdout, duration, users, items, interactions, epochs, saeEpochs, seed, shadowEvery, keepLog, brokers, plain,
        };
        command.SetAction(async (r, ct) =>
        {
            var options = defaults with
            {
                DataPath = r.GetValue(data),
                Format = r.GetValue(format),
                ModelDirectory = r.GetValue(model),
                Rate = r.GetValue(rate),
                Schedule = AlphaSchedule.Parse(r.GetValue(schedule) ?? "0:0"),
                DriftAt = r.GetValue(noDrift) ? null : r.GetValue(driftAt),
                Settings = ParseSettings(r.GetValue(set) ?? []),
                Holdout = r.GetValue(holdout),
                Duration = r.GetValue(duration) is { } s ? TimeSpan.FromSeconds(s) : null,
                GeneratedUsers = r.GetValue(users),
                GeneratedItems = r.GetValue(items),
                GeneratedInteractions = r.GetValue(interactions),
                Epochs = r.GetValue(epochs),
                SaeEpochs = r.GetValue(saeEpochs),
                Seed = r.GetValue(seed),
                ShadowSampleEvery = r.GetValue(shadowEvery),
                TrimBroker = !r.GetValue(keepLog),
                Brokers = r.GetValue(brokers),
                Interactive = defaults.Interactive && !r.GetValue(plain),
            };
            return await new DemoRunner(options).RunAsync(ct);
        });
        return command;
    }

    /// <summary>KEY=VALUE pairs; anything else is refused with the offending text.</summary>
    internal static Dictionary<string, string?> ParseSettings(IEnumerable<string> pairs)
    {
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var pair in pairs)
        {
            int eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw new ArgumentException($"--set: '{pair}' is not KEY=VALUE (e.g. Retrainer:SasRecFineTune=Never).");
            settings[pair[..eq].Trim()] = pair[(eq + 1)..].Trim();
        }
        return settings;
    }
}
