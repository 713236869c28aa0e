using System.CommandLine;

namespace PopSteer.Cli.Commands;

/// <summary>The verbs of the CLI, in the order `popsteer --help` lists them.</summary>
internal static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        // Offline verbs (over PopSteer.Core).
        yield return GenerateCommand.Create();
        yield return FitCommand.Create();
        yield return FitCommand.CreateTrain();
        yield return FitCommand.CreateTrainSae();
        yield return FitCommand.CreateAnalyze();
        yield return EvaluateCommand.Create();
        yield return SweepCommand.Create();
        yield return TuneCommand.Create();
        yield return ExplainCommand.Create();
        yield return CompareCommand.Create();
        // Operational verbs (over PopSteer.Streaming).
        yield return DemoCommand.Create();
        yield return BrokerCommand.Create();
        yield return ReplayCommand.Create();
        yield return PublishCommand.Create();
        yield return ModelsCommand.Create();
        yield return RollbackCommand.Create();
        yield return PublishCommand.CreateKeygen();
    }
}
