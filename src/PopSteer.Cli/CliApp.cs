using System.CommandLine;
using PopSteer.Cli.Commands;
using PopSteer.Core;

namespace PopSteer.Cli;

/// <summary>The `popsteer` command tree and its invocation, shared by Program.cs and the CLI tests.</summary>
internal static class CliApp
{
    /// <summary>
    /// Torch's intra-op threads for every verb. On a machine whose cores are busy with other work, one thread can be
    /// many times faster than two for d = 64 tensors (threads wait on descheduled siblings); default: libtorch's choice.
    /// </summary>
    private static readonly Option<int?> Threads = new("--threads")
    {
        Description = "Torch intra-op threads (default: one per core).",
        Recursive = true,
    };

    public static RootCommand Create()
    {
        var root = new RootCommand("popsteer: PopSteer popularity steering for SASRec, offline and streaming.") { Threads };
        foreach (var command in CommandCatalog.All())
            root.Subcommands.Add(command);
        return root;
    }

    /// <summary>Runs one command line; user mistakes become one error line and exit code 2 (see <see cref="CliErrors"/>).</summary>
    public static Task<int> RunAsync(string[] args) =>
        CliErrors.RunAsync(() =>
        {
            var parsed = Create().Parse(args);
            if (parsed.GetValue(Threads) is { } threads)
            {
                if (threads < 1) throw new ArgumentException("--threads must be at least 1.");
                TorchRuntime.ConfigureThreads(threads);
            }
            return parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        });
}
