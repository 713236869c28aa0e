using System.CommandLine;
using PopSteer.Streaming.Registry;

namespace PopSteer.Cli.Commands;

/// <summary>`popsteer rollback VERSION`: re-point the registry's `current` at a stored version and announce it.</summary>
internal static class RollbackCommand
{
    public static Command Create()
    {
        var version = new Argument<string>("VERSION") { Description = "A stored version id (see `popsteer models`)." };
        var redis = PublishCommand.RedisOption();
        var bootstrap = PublishCommand.BootstrapOption();
        var command = new Command("rollback", "Point the registry's `current` back at a stored model version and announce it; scorers swap between batches.");
        command.Arguments.Add(version);
        command.Options.Add(redis);
        command.Options.Add(bootstrap);
        command.SetAction(async (ParseResult r, CancellationToken ct) =>
        {
            using var session = RegistrySession.Open(r.GetValue(redis), r.GetValue(bootstrap), announce: true);
            var info = await session.Registry.RollbackAsync(r.GetValue(version)!, ct);
            Console.WriteLine($"current -> {info.Version} (published {info.PublishedAt.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC)");
            return 0;
        });
        return command;
    }
}
