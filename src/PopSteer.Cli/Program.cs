using System.CommandLine;
using PopSteer.Cli;
using PopSteer.Cli.Commands;

// Redirected output (logs, CI, pipes) has no terminal width: give tables room instead of Spectre's 80 columns.
if (Console.IsOutputRedirected) Spectre.Console.AnsiConsole.Profile.Width = 160;

// Wiring only: each verb lives in its own file under Commands/ and exposes Create().
var root = new RootCommand("popsteer: PopSteer popularity steering for SASRec, offline and streaming.");
foreach (var command in CommandCatalog.All())
    root.Subcommands.Add(command);

return await CliErrors.RunAsync(() => root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }));
