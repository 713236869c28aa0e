using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Json;

namespace PopSteer.Streaming.Configuration;

/// <summary>
/// popsteer.json, re-read every <see cref="PopSteerConfigFileSource.PollInterval"/>. A new version is applied only if
/// it is usable: a file that is empty, does not parse, cannot be read, has disappeared, or names a key the service does
/// not know (<see cref="UseSchema"/>) is refused and the last good version stays in force. At start-up there is no
/// last good version, so a refused file contributes nothing and the service runs on its other sources (appsettings,
/// environment): the file belongs to whoever edits the ConfigMap, and refusing to start over it would take every
/// restarting replica down with it. Every refusal is raised as <see cref="Refused"/>, which the host logs and counts
/// (<c>popsteer.config.refused</c>).
/// </summary>
public sealed class PopSteerConfigFileProvider : ConfigurationProvider, IDisposable
{
    private readonly Lock _gate = new();
    private readonly Timer _timer;
    private string? _lastSeen; // hash of the content last looked at, applied or refused
    private PopSteerConfigurationSchema? _schema;
    private bool _loaded;
    private int _refusals;

    public PopSteerConfigFileProvider(PopSteerConfigFileSource source)
    {
        Path = System.IO.Path.GetFullPath(source.Path);
        _timer = new Timer(_ => Poll(), null, source.PollInterval, source.PollInterval);
    }

    public string Path { get; }

    /// <summary>The refusal of the content read at start-up, if it was refused (null otherwise).</summary>
    public string? StartupRefusal { get; private set; }

    /// <summary>The refusal in force now: the file's current content is not applied (null when it is).</summary>
    public string? CurrentRefusal { get; private set; }

    /// <summary>Refusals since start, start-up included.</summary>
    public int Refusals => Volatile.Read(ref _refusals);

    /// <summary>Raised (on the polling thread) with a message naming the file and the reason.</summary>
    public event Action<string>? Refused;

    /// <summary>Raised when a new version of the file has been applied.</summary>
    public event Action? Applied;

    /// <summary>From now on, content with an unknown key in a section of <paramref name="schema"/> is refused.</summary>
    public void UseSchema(PopSteerConfigurationSchema schema)
    {
        lock (_gate) _schema = schema;
    }

    /// <summary>Called by the configuration root at build and on Reload(): reads the file now.</summary>
    public override void Load()
    {
        lock (_gate) Read();
    }

    /// <summary>Re-reads the file now and, if a new version was applied, notifies the configuration's listeners.</summary>
    public void Poll()
    {
        bool changed;
        lock (_gate) changed = Read();
        if (changed) OnReload();
    }

    public void Dispose() => _timer.Dispose();

    /// <summary>Returns true when a new version was applied.</summary>
    private bool Read()
    {
        byte[]? bytes;
        string? readError = null;
        try
        {
            bytes = File.Exists(Path) ? File.ReadAllBytes(Path) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            bytes = null;
            readError = e.Message;
        }

        var hash = readError is not null ? $"error:{readError}" : bytes is null ? "missing" : Convert.ToHexString(SHA256.HashData(bytes));
        var startup = !_loaded;
        _loaded = true;
        // Same content as last time: already applied, or already refused (and reported once).
        if (hash == _lastSeen) return false;
        _lastSeen = hash;

        if (readError is not null) return Refuse($"could not be read ({readError})", startup);
        if (bytes is null)
        {
            // No file at start-up is a deployment without a ConfigMap: nothing to refuse.
            return startup ? false : Refuse("has disappeared", startup);
        }
        if (bytes.All(b => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
            return Refuse("is empty", startup);

        IDictionary<string, string?> parsed;
        try
        {
            using var stream = new MemoryStream(bytes);
            parsed = JsonParser.Parse(stream);
        }
        catch (Exception e) when (e is FormatException or System.Text.Json.JsonException or InvalidDataException)
        {
            return Refuse($"is not valid JSON ({(e.InnerException ?? e).Message})", startup);
        }

        var unknown = _schema?.UnknownKeys(parsed.Keys) ?? [];
        if (unknown.Count > 0) return Refuse(string.Join("; ", unknown), startup);

        Data = new Dictionary<string, string?>(parsed, StringComparer.OrdinalIgnoreCase);
        CurrentRefusal = null;
        Applied?.Invoke();
        return true;
    }

    private bool Refuse(string reason, bool startup)
    {
        var message = startup
            ? $"{Path} {reason}; it is ignored and the service runs on its other configuration sources (appsettings, environment) until it is fixed"
            : $"{Path} {reason}; the change is refused and the last good configuration stays in force";
        if (startup) StartupRefusal = message;
        CurrentRefusal = message;
        Interlocked.Increment(ref _refusals);
        Refused?.Invoke(message);
        return false;
    }

    /// <summary>The framework's own JSON configuration parser (comments and trailing commas allowed, as in appsettings).</summary>
    private sealed class JsonParser() : JsonStreamConfigurationProvider(new JsonStreamConfigurationSource())
    {
        public static IDictionary<string, string?> Parse(Stream stream)
        {
            var parser = new JsonParser();
            parser.Load(stream);
            return parser.Data;
        }
    }
}
