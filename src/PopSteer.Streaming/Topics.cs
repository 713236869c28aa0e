namespace PopSteer.Streaming;

/// <summary>Default topic names; every one can be overridden through <c>Kafka:Topics:*</c>.</summary>
public static class Topics
{
    public const string Interactions = "popsteer.interactions";
    public const string UsersChanged = "popsteer.users.changed";
    public const string Recommendations = "popsteer.recommendations";
    public const string DeadLetter = "popsteer.deadletter";
    public const string Models = "popsteer.models";
}
