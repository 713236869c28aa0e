using System.CommandLine;

namespace PopSteer.Cli.Commands;

/// <summary>The verbs of the CLI, in the order `popsteer --help` lists them.</summary>
internal static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        // Offline verbs (over PopSteer.Core), then operational verbs (over PopSteer.Streaming).
        yield break;
    }
}
