using PopSteer.Cli;

// Redirected output (logs, CI, pipes) has no terminal width: give tables room instead of Spectre's 80 columns.
if (Console.IsOutputRedirected) Spectre.Console.AnsiConsole.Profile.Width = 160;

return await CliApp.RunAsync(args);
