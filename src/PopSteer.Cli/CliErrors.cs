using PopSteer.Core.Data;
using PopSteer.Core.Storage;

namespace PopSteer.Cli;

/// <summary>
/// Turns the failures a user can cause (a missing file, a malformed row, a bad model directory, a bad value) into one
/// clear line and a non-zero exit code instead of a stack trace. Anything else is a bug and keeps its trace.
/// </summary>
internal static class CliErrors
{
    public const int UserError = 2;

    public static async Task<int> RunAsync(Func<Task<int>> run)
    {
        try
        {
            return await run();
        }
        catch (Exception e) when (Describe(e) is { } message)
        {
            Console.Error.WriteLine($"error: {message}");
            return UserError;
        }
    }

    private static string? Describe(Exception e) => e switch
    {
        FileNotFoundException f => f.FileName is { } name && !f.Message.Contains(name, StringComparison.Ordinal) ? $"{f.Message} ({name})" : f.Message,
        DirectoryNotFoundException or DataFormatException or ModelFormatException or Streaming.Registry.ModelRegistryException => e.Message,
        ArgumentException or InvalidOperationException => e.Message,
        OperationCanceledException => "cancelled",
        _ => null,
    };
}
