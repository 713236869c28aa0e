namespace PopSteer.Core.Storage;

/// <summary>A model directory that is missing a file, was altered after saving, or does not fit its manifest.</summary>
public class ModelFormatException : Exception
{
    public ModelFormatException(string message) : base(message) { }
    public ModelFormatException(string message, Exception inner) : base(message, inner) { }

    public ModelFormatException(string file, string message) : base($"{file}: {message}") => FilePath = file;

    /// <summary>The offending file, when one is to blame.</summary>
    public string? FilePath { get; }
}
