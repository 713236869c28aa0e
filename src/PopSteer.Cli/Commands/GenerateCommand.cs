using System.CommandLine;
using PopSteer.Core.Data;

namespace PopSteer.Cli.Commands;

/// <summary>`popsteer generate`: a seeded synthetic data set with a long tail and sequential structure.</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var users = new Option<int>("--users") { Description = "Number of users.", DefaultValueFactory = _ => 1000 };
        var items = new Option<int>("--items") { Description = "Number of items.", DefaultValueFactory = _ => 500 };
        var interactions = new Option<int>("--interactions") { Description = "Number of interaction rows.", DefaultValueFactory = _ => 50_000 };
        var output = new Option<string>("--out") { Description = "CSV file to write (user_id,item_id,timestamp).", Required = true };
        var seed = CommonOptions.Seed();
        var repeat = new Option<double>("--repeat") { Description = "Chance the next item repeats the previous one (0 = off; listening logs: ~0.75).", DefaultValueFactory = _ => 0 };

        var command = new Command("generate", "Write a seeded synthetic interaction file (Zipf-like popularity, predictable next items).")
        {
            users, items, interactions, output, seed, repeat,
        };
        command.SetAction(r =>
        {
            var options = new SyntheticDataOptions(r.GetValue(users), r.GetValue(items), r.GetValue(interactions), r.GetValue(seed)) { RepeatPrevious = r.GetValue(repeat) };
            var rows = SyntheticDataGenerator.Generate(options);
            var path = r.GetRequiredValue(output);
            var directory = Path.GetDirectoryName(Path.GetFullPath(path));
            if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
            InteractionCsvWriter.Write(path, rows);
            Console.WriteLine($"wrote {rows.Count:N0} interactions ({options.Users:N0} users, {options.Items:N0} items, seed {options.Seed}) to {path}");
            return 0;
        });
        return command;
    }
}
