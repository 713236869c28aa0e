namespace PopSteer.Core.Data;

/// <summary>A malformed data file; names the file and the 1-based line (0 when the file as a whole is at fault).</summary>
public class DataFormatException : Exception
{
    public DataFormatException(string path, long line, string message)
        : base(line > 0 ? $"{path}:{line}: {message}" : $"{path}: {message}")
    {
        FilePath = path;
        Line = line;
    }

    public DataFormatException(string path, long line, string message, Exception inner)
        : base(line > 0 ? $"{path}:{line}: {message}" : $"{path}: {message}", inner)
    {
        FilePath = path;
        Line = line;
    }

    public string FilePath { get; }
    public long Line { get; }
}
