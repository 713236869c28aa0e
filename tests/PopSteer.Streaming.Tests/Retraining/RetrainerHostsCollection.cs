namespace PopSteer.Streaming.Tests.Retraining;

/// <summary>
/// Test classes that host a Retrainer run one at a time: an OpenTelemetry meter provider sees every Meter of a name
/// in the process, so a second Retrainer host running beside the metrics test would add its events to the counts
/// it scrapes. (In production each service has its own process.)
/// </summary>
[CollectionDefinition(Name)]
public sealed class RetrainerHostsCollection
{
    public const string Name = "Retrainer hosts";
}
