namespace PopSteer.Chaos;

/// <summary>Where the built services and the CLI are: each service runs from its own build output directory.</summary>
public sealed class ServiceLayout(string repositoryRoot)
{
    private const string Output = "bin/Release/net10.0/linux-x64";

    public string Root { get; } = repositoryRoot;

    public string Cli => Path.Combine(Root, "src/PopSteer.Cli", Output, "popsteer.dll");

    public string Dll(string service) => service switch
    {
        "ingest" => Path.Combine(Root, "src/Ingest", Output, "PopSteer.Ingest.dll"),
        "scorer" => Path.Combine(Root, "src/Scorer", Output, "PopSteer.Scorer.dll"),
        "retrainer" => Path.Combine(Root, "src/Retrainer", Output, "PopSteer.Retrainer.dll"),
        _ => throw new ArgumentOutOfRangeException(nameof(service), service, "not a service"),
    };

    /// <summary>The repository root: the nearest directory at or above <paramref name="start"/> holding PopSteer.Stream.sln.</summary>
    public static ServiceLayout Find(string? root, string start)
    {
        if (root is not null) return new ServiceLayout(Path.GetFullPath(root));
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "PopSteer.Stream.sln"))) return new ServiceLayout(dir.FullName);
        throw new DirectoryNotFoundException($"No PopSteer.Stream.sln at or above {start}; pass --repo.");
    }

    /// <summary>Throws, naming the file, when a service or the CLI has not been built.</summary>
    public void Verify()
    {
        foreach (var dll in new[] { Cli, Dll("ingest"), Dll("scorer"), Dll("retrainer") })
            if (!File.Exists(dll))
                throw new FileNotFoundException($"{dll} is not built; run `dotnet build tests/PopSteer.Chaos -c Release` (scripts/chaos.sh does).", dll);
    }
}
