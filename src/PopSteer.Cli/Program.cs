using System.CommandLine;
using PopSteer.Cli.Commands;

// Wiring only: each verb lives in its own file under Commands/ and exposes Create().
var root = new RootCommand("popsteer: PopSteer popularity steering for SASRec, offline and streaming.");
foreach (var command in CommandCatalog.All())
    root.Subcommands.Add(command);

return await root.Parse(args).InvokeAsync();
