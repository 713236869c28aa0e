using System.Globalization;

namespace PopSteer.Chaos;

/// <summary>One write of $POPSTEER_CONFIG_DIR/popsteer.json; <see cref="Alpha"/> is set when the file is valid.</summary>
public sealed record ConfigWrite(DateTimeOffset At, FaultKind? Kind, double? Alpha, string Content);

/// <summary>
/// The shared config file every service watches (a mounted ConfigMap), written atomically (temp file + rename, so a
/// reader never sees half a file) and remembered, so recommendations can be checked against the alpha in force.
/// </summary>
public sealed class ConfigFile(string directory)
{
    private readonly List<ConfigWrite> _writes = [];

    public string Directory { get; } = directory;

    public string Path => System.IO.Path.Combine(Directory, "popsteer.json");

    public IReadOnlyList<ConfigWrite> Writes { get { lock (_writes) return _writes.ToArray(); } }

    /// <summary>The last valid alpha written.</summary>
    public double CurrentAlpha { get { lock (_writes) return _writes.Last(w => w.Alpha is not null).Alpha!.Value; } }

    public void WriteAlpha(double alpha, FaultKind? kind) =>
        Write(kind, alpha, $$"""{ "Steering": { "Alpha": {{alpha.ToString(CultureInfo.InvariantCulture)}} } }""");

    /// <summary>A bad file: the key misspelled, JSON that does not parse, or a value the Scorer must refuse.</summary>
    public void WriteFault(FaultKind kind, double alpha)
    {
        var a = alpha.ToString(CultureInfo.InvariantCulture);
        Write(kind, null, kind switch
        {
            FaultKind.ConfigTypo => $$"""{ "Steering": { "Alpah": {{a}} } }""",
            FaultKind.ConfigBrokenJson => $$"""{ "Steering": { "Alpha": {{a}} """,
            FaultKind.AlphaInvalid => """{ "Steering": { "Alpha": -1 } }""",
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a config fault"),
        });
    }

    private void Write(FaultKind? kind, double? alpha, string content)
    {
        lock (_writes)
        {
            System.IO.Directory.CreateDirectory(Directory);
            var temp = Path + ".tmp";
            File.WriteAllText(temp, content);
            File.Move(temp, Path, overwrite: true);
            _writes.Add(new ConfigWrite(DateTimeOffset.UtcNow, kind, alpha, content));
        }
    }
}
