using System.CommandLine;
using PopSteer.Streaming.Registry;

namespace PopSteer.Cli.Commands;

/// <summary>`popsteer models`: the stored model versions, oldest first, with the current one marked.</summary>
internal static class ModelsCommand
{
    public static Command Create()
    {
        var redis = PublishCommand.RedisOption();
        var command = new Command("models", "List the model versions in the Redis registry (* = current).");
        command.Options.Add(redis);
        command.SetAction(async (ParseResult r, CancellationToken ct) =>
        {
            using var session = RegistrySession.Open(r.GetValue(redis), bootstrap: null, announce: false);
            var versions = await session.Registry.ListAsync(ct);
            if (versions.Count == 0)
            {
                Console.WriteLine("The registry is empty: publish a model with `popsteer publish --model DIR`.");
                return 0;
            }
            Console.WriteLine($"  {"version",-16}  {"published (UTC)",-20}  {"files",5}  {"bytes",12}  {"signed by",-16}  manifest sha256");
            foreach (var v in versions)
                Console.WriteLine($"{(v.IsCurrent ? '*' : ' ')} {v.Version,-16}  {v.PublishedAt.UtcDateTime,-20:yyyy-MM-dd HH:mm:ss}  {v.Files,5}  {v.Bytes,12:N0}  {v.SignedBy ?? "(unsigned)",-16}  {v.ManifestSha256}");
            return 0;
        });
        return command;
    }
}
