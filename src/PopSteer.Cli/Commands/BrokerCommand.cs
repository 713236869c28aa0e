using System.CommandLine;
using PopSteer.Embedded;
using PopSteer.Ingest;
using PopSteer.Retrainer;
using PopSteer.Scorer;
using PopSteer.Streaming.Configuration;

namespace PopSteer.Cli.Commands;

/// <summary>`popsteer broker`: the embedded Kafka (librdkafka mock cluster) for local runs, until Ctrl-C.</summary>
internal static class BrokerCommand
{
    public static Command Create()
    {
        var brokers = new Option<int>("--brokers") { Description = "Number of mock brokers.", DefaultValueFactory = _ => 3 };
        var retain = new Option<string[]>("--retain")
        {
            Description = "Every second, delete TOPIC's records that all the listed consumer groups have committed past: TOPIC=GROUP[,GROUP...]; "
                          + "repeatable. Without trimming the mock's fetches slow down as its logs grow (docs/speed.md).",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var retainServices = new Option<bool>("--retain-services")
        {
            Description = "Trim behind the services' default groups: the interactions topic behind Ingest's and the Retrainer's, users-changed behind the Scorer's.",
        };
        var command = new Command("broker", "Start an embedded Kafka-protocol cluster (librdkafka mock, not durable) and print its bootstrap servers; runs until Ctrl-C.");
        command.Options.Add(brokers);
        command.Options.Add(retain);
        command.Options.Add(retainServices);
        command.SetAction(async (ParseResult result, CancellationToken ct) =>
        {
            var count = result.GetValue(brokers);
            if (count < 1)
            {
                Console.Error.WriteLine("error: --brokers must be at least 1.");
                return 2;
            }
            IReadOnlyList<(string Topic, IReadOnlyList<string> Groups)> trimmed;
            try
            {
                trimmed = Retention(result.GetValue(retain) ?? [], result.GetValue(retainServices));
            }
            catch (FormatException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
            await using var broker = new EmbeddedKafkaBroker(count);
            // The default topic names with production's partition counts (Kafka:Topics:* renames are not known here).
            broker.TryCreateTopics(EmbeddedKafkaBroker.ProductionTopics(new KafkaTopicOptions()), w => Console.Error.WriteLine($"warning: {w}"));
            await using var retention = trimmed.Count == 0 ? null : new EmbeddedBrokerRetention(broker, trimmed, TimeSpan.FromSeconds(1));
            Console.WriteLine(broker.BootstrapServers);
            Console.Error.WriteLine($"Embedded Kafka with {count} brokers is up. Use --bootstrap {broker.BootstrapServers} or Kafka__BootstrapServers={broker.BootstrapServers}. Ctrl-C stops it (its topics are lost).");
            Console.Error.WriteLine(trimmed.Count == 0
                ? "Logs are not trimmed (--retain or --retain-services to trim them behind consumer groups)."
                : "Trimming, every second: " + string.Join("; ", trimmed.Select(t => $"{t.Topic} behind {string.Join(", ", t.Groups)}")));
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
            }
            if (retention is not null) Console.Error.WriteLine($"{retention.RecordsDeleted:N0} records trimmed behind the committed offsets.");
            Console.Error.WriteLine("Embedded Kafka stopped.");
            return 0;
        });
        return command;
    }

    /// <summary>
    /// The topics to trim and the groups to trim each behind, from TOPIC=GROUP[,GROUP...] specs and, with
    /// <paramref name="services"/>, the services' default topics and groups. A topic named twice is trimmed behind the
    /// union of its groups: nothing is deleted that any of them has not committed past.
    /// </summary>
    internal static IReadOnlyList<(string Topic, IReadOnlyList<string> Groups)> Retention(IEnumerable<string> specs, bool services)
    {
        var groups = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        void Add(string topic, string group)
        {
            if (!groups.TryGetValue(topic, out var list)) groups[topic] = list = [];
            if (!list.Contains(group, StringComparer.Ordinal)) list.Add(group);
        }
        if (services)
            foreach (var (topic, readers) in ServiceConsumerGroups.Of(new KafkaTopicOptions(), new IngestOptions().GroupId, new RetrainerOptions().GroupId, new ScoringOptions().GroupId))
                foreach (var group in readers) Add(topic, group);
        foreach (var spec in specs)
        {
            int equals = spec.IndexOf('=', StringComparison.Ordinal);
            string topic = equals < 0 ? "" : spec[..equals].Trim();
            var named = equals < 0 ? [] : spec[(equals + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (topic.Length == 0 || named.Length == 0)
                throw new FormatException($"--retain '{spec}' is not TOPIC=GROUP[,GROUP...] (for example popsteer.recommendations=my-feed).");
            foreach (var group in named) Add(topic, group);
        }
        return groups.Select(g => (g.Key, (IReadOnlyList<string>)g.Value)).ToList();
    }
}
