namespace PopSteer.Streaming.Tests.Deploy;

/// <summary>The repository checkout the tests run from (the directory holding PopSteer.Stream.sln).</summary>
internal static class RepositoryRoot
{
    private static readonly Lazy<string> Root = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "PopSteer.Stream.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"No PopSteer.Stream.sln above {AppContext.BaseDirectory}.");
    });

    public static string Path => Root.Value;

    public static string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);
}
