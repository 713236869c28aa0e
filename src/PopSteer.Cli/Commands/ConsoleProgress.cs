using PopSteer.Core.Training;

namespace PopSteer.Cli.Commands;

/// <summary>
/// Prints training progress as it happens. Synchronous on purpose: Progress&lt;T&gt; would post to the thread pool and
/// reorder or lose the last lines when the process exits.
/// </summary>
internal sealed class ConsoleProgress : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value) => Console.WriteLine(value.ToString());
}
