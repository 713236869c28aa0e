using System.CommandLine;
using PopSteer.Embedded;

namespace PopSteer.Cli.Commands;

/// <summary>`popsteer broker`: the embedded Kafka (librdkafka mock cluster) for local runs, until Ctrl-C.</summary>
internal static class BrokerCommand
{
    public static Command Create()
    {
        var brokers = new Option<int>("--brokers") { Description = "Number of mock brokers.", DefaultValueFactory = _ => 3 };
        var command = new Command("broker", "Start an embedded Kafka-protocol cluster (librdkafka mock, not durable) and print its bootstrap servers; runs until Ctrl-C.");
        command.Options.Add(brokers);
        command.SetAction(async (ParseResult result, CancellationToken ct) =>
        {
            var count = result.GetValue(brokers);
            if (count < 1)
            {
                Console.Error.WriteLine("error: --brokers must be at least 1.");
                return 2;
            }
            await using var broker = new EmbeddedKafkaBroker(count);
            // The default topic names with production's partition counts (Kafka:Topics:* renames are not known here).
            broker.TryCreateTopics(EmbeddedKafkaBroker.ProductionTopics(new PopSteer.Streaming.Configuration.KafkaTopicOptions()), w => Console.Error.WriteLine($"warning: {w}"));
            Console.WriteLine(broker.BootstrapServers);
            Console.Error.WriteLine($"Embedded Kafka with {count} brokers is up. Use --bootstrap {broker.BootstrapServers} or Kafka__BootstrapServers={broker.BootstrapServers}. Ctrl-C stops it (its topics are lost).");
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
            }
            Console.Error.WriteLine("Embedded Kafka stopped.");
            return 0;
        });
        return command;
    }
}
