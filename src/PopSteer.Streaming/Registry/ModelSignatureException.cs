namespace PopSteer.Streaming.Registry;

/// <summary>A key file that cannot be used, or a signature file that cannot be read.</summary>
public sealed class ModelSignatureException : Exception
{
    public ModelSignatureException(string message) : base(message) { }

    public ModelSignatureException(string message, Exception inner) : base(message, inner) { }
}
