namespace PopSteer.Streaming.Registry;

/// <summary>
/// A fencing token for publishing (Kleppmann's fencing): the registry remembers the highest token seen per
/// <see cref="Name"/> and refuses a publish with a lower one. A writer that holds a lease (the Retrainer) passes the
/// lease's token, so once a newer holder has raised the mark a paused former holder can no longer move <c>current</c>.
/// </summary>
public sealed record RegistryFence(string Name, long Token);
