namespace PopSteer.Streaming.Tests.Retraining;

/// <summary>
/// Test classes that host a Retrainer (and, in the refit test, a Scorer) run one at a time and apart from every other
/// test class: an OpenTelemetry meter provider sees every Meter of a name in the process, so a host running beside a
/// metrics test (this one's or the Scorer's) would add its events to the counts that test scrapes. (In production
/// each service has its own process.)
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RetrainerHostsCollection
{
    public const string Name = "Retrainer hosts";
}
