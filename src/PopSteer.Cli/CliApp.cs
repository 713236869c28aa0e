using System.CommandLine;
using PopSteer.Cli.Commands;

namespace PopSteer.Cli;

/// <summary>The `popsteer` command tree and its invocation, shared by Program.cs and the CLI tests.</summary>
internal static class CliApp
{
    public static RootCommand Create()
    {
        var root = new RootCommand("popsteer: PopSteer popularity steering for SASRec, offline and streaming.");
        foreach (var command in CommandCatalog.All())
            root.Subcommands.Add(command);
        return root;
    }

    /// <summary>Runs one command line; user mistakes become one error line and exit code 2 (see <see cref="CliErrors"/>).</summary>
    public static Task<int> RunAsync(string[] args) =>
        CliErrors.RunAsync(() => Create().Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }));
}
