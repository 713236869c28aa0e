namespace PopSteer.Streaming.Registry;

/// <summary>A registry operation that cannot be done as asked: unknown version, corrupt stored copy, bad model directory.</summary>
public sealed class ModelRegistryException : Exception
{
    public ModelRegistryException(string message) : base(message) { }

    public ModelRegistryException(string message, Exception inner) : base(message, inner) { }
}
