using System.CommandLine;
using Microsoft.Extensions.Configuration;
using PopSteer.Core.Data;
using PopSteer.Streaming;
using PopSteer.Streaming.Configuration;
using PopSteer.Streaming.Kafka;
using PopSteer.Streaming.Replay;

namespace PopSteer.Cli.Commands;

/// <summary>`popsteer replay`: an interaction file as a live stream of InteractionEvents keyed by user.</summary>
internal static class ReplayCommand
{
    public static Command Create()
    {
        var data = new Option<FileInfo>("--data") { Description = "Interaction file (MovieLens, RecBole .inter, or CSV with user/item/timestamp columns).", Required = true };
        var format = new Option<DataFormat>("--format") { Description = "File format.", DefaultValueFactory = _ => DataFormat.Auto };
        var bootstrap = new Option<string>("--bootstrap") { Description = "Kafka bootstrap servers (host:port,...). Other client keys come from Kafka__Client__* environment variables.", Required = true };
        var topic = new Option<string>("--topic") { Description = "Topic to produce to.", DefaultValueFactory = _ => Topics.Interactions };
        var rate = new Option<double>("--rate") { Description = "Events per second; 0 = as fast as possible.", DefaultValueFactory = _ => 0 };
        var limit = new Option<int?>("--limit") { Description = "Replay only the first N events in time order." };
        var command = new Command("replay", "Replay an interaction file to Kafka in time order as InteractionEvents keyed by user.");
        foreach (var option in new Option[] { data, format, bootstrap, topic, rate, limit }) command.Options.Add(option);

        command.SetAction(async (ParseResult result, CancellationToken ct) =>
        {
            var eventsPerSecond = result.GetValue(rate);
            var max = result.GetValue(limit);
            if (eventsPerSecond < 0 || double.IsNaN(eventsPerSecond))
            {
                Console.Error.WriteLine("error: --rate must be 0 (as fast as possible) or a positive number of events per second.");
                return 2;
            }
            if (max is < 1)
            {
                Console.Error.WriteLine("error: --limit must be at least 1.");
                return 2;
            }

            // A missing file or a malformed row is reported (file and line) by CliErrors, exit code 2.
            var rows = InteractionReader.Read(result.GetValue(data)!.FullName, result.GetValue(format));

            var events = InteractionReplay.ToEvents(rows, $"{Path.GetFileName(result.GetValue(data)!.Name)}:");
            if (max is { } n) events = events.Take(n).ToArray();

            // Kafka:Client:* from the environment still applies (SASL/TLS), with --bootstrap on top.
            var options = new ConfigurationBuilder().AddEnvironmentVariables().Build().GetSection(KafkaOptions.SectionName).Get<KafkaOptions>() ?? new KafkaOptions();
            options.BootstrapServers = result.GetValue(bootstrap)!;
            var replay = new InteractionReplay(new KafkaClientFactory(Microsoft.Extensions.Options.Options.Create(options)));
            var target = result.GetValue(topic)!;
            Console.Error.WriteLine($"Replaying {events.Count} events from {rows.Count} rows to {target} at {(eventsPerSecond > 0 ? $"{eventsPerSecond:0.#} events/s" : "full speed")}...");

            var done = await replay.RunAsync(events, target, eventsPerSecond,
                p => Console.Error.WriteLine($"  {p.Sent,10:N0} sent  {p.EventsPerSecond,10:N0} events/s  {p.Failed} failed"), ct);

            Console.WriteLine($"sent {done.Sent:N0} events in {done.Elapsed.TotalSeconds:0.0} s ({done.EventsPerSecond:N0} events/s), {done.Failed} failed");
            if (done.Failed > 0)
            {
                Console.Error.WriteLine($"error: {done.Failed} events were not delivered: {done.FirstError}");
                return 1;
            }
            return ct.IsCancellationRequested ? 130 : 0;
        });
        return command;
    }
}
