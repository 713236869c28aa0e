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
        var schedule = new Option<string>("--alpha-schedule") { Description = "SECONDS:ALPHA steps, e.g. \"0:0,30:1.5,60:3\".", DefaultValueFactory = _ => "0:0,20:1.5,40:3" };
        var holdout = new Option<double>("--holdout") { Description = "Share of each user's latest events replayed live (the rest trains).", DefaultValueFactory = _ => defaults.Holdout };
        var duration = new Option<double?>("--duration") { Description = "Stop after this many seconds (default: when every event is served)." };
        var users = new Option<int>("--users") { Description = "Generated data: users.", DefaultValueFactory = _ => defaults.GeneratedUsers };
        var items = new Option<int>("--items") { Description = "Generated data: items.", DefaultValueFactory = _ => defaults.GeneratedItems };
        var interactions = new Option<int>("--interactions") { Description = "Generated data: interactions.", DefaultValueFactory = _ => defaults.GeneratedInteractions };
        var epochs = new Option<int>("--epochs") { Description = "SASRec epoch cap when fitting.", DefaultValueFactory = _ => defaults.Epochs };
        var saeEpochs = new Option<int>("--sae-epochs") { Description = "SAE epoch cap when fitting.", DefaultValueFactory = _ => defaults.SaeEpochs };
        var seed = CommonOptions.Seed();
        var plain = new Option<bool>("--plain") { Description = "Print a status line every 5 s instead of the live table (also when output is redirected)." };

        var command = new Command("demo", "Run the whole streaming pipeline on this machine: Redis, embedded Kafka, Ingest, Scorer, live alpha.")
        {
            data, format, model, rate, schedule, holdout, duration, users, items, interactions, epochs, saeEpochs, seed, plain,
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
                Holdout = r.GetValue(holdout),
                Duration = r.GetValue(duration) is { } s ? TimeSpan.FromSeconds(s) : null,
                GeneratedUsers = r.GetValue(users),
                GeneratedItems = r.GetValue(items),
                GeneratedInteractions = r.GetValue(interactions),
                Epochs = r.GetValue(epochs),
                SaeEpochs = r.GetValue(saeEpochs),
                Seed = r.GetValue(seed),
                Interactive = defaults.Interactive && !r.GetValue(plain),
            };
            return await new DemoRunner(options).RunAsync(ct);
        });
        return command;
    }
}
