using System.Diagnostics;

namespace PopSteer.Streaming.Tests.Infrastructure;

/// <summary>
/// A built service (PopSteer.Ingest.dll, PopSteer.Scorer.dll, ...) run as a real child process (dotnet
/// PopSteer.&lt;Service&gt;.dll), configured through environment variables, so a test can kill -9 or SIGTERM it. Output is
/// kept for failure messages.
/// </summary>
public sealed class ServiceProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _output = [];

    private ServiceProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>The exit code once <see cref="HasExited"/>.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>
    /// Waits for the process to end on its own; false on timeout. Once it has ended, also waits for its output to be
    /// read to the end: WaitForExit(timeout) returns before the asynchronous readers have seen the last lines, and a
    /// test that looked for the process's last words then missed them (seen under a loaded suite).
    /// </summary>
    public bool WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout)) return false;
        _process.WaitForExit();
        return true;
    }

    /// <summary>The last 80 lines, for failure messages.</summary>
    public string Output
    {
        get { lock (_output) return string.Join('\n', _output.TakeLast(80)); }
    }

    /// <summary>Whether any line the process wrote contains <paramref name="text"/> (all lines, not only the last 80).</summary>
    public bool Wrote(string text)
    {
        lock (_output) return _output.Any(line => line.Contains(text, StringComparison.Ordinal));
    }

    /// <param name="service">Ingest, Scorer or Retrainer.</param>
    public static ServiceProcess Start(TestSettings settings, string service = "Ingest")
    {
        var dll = Path.Combine(AppContext.BaseDirectory, $"PopSteer.{service}.dll");
        if (!File.Exists(dll) || !File.Exists(Path.ChangeExtension(dll, ".runtimeconfig.json")))
            throw new FileNotFoundException($"PopSteer.{service}.dll (with its runtimeconfig) is not next to the tests; build tests/PopSteer.Streaming.Tests.", dll);
        var start = new ProcessStartInfo("dotnet", [dll])
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // The tests' output folder holds one appsettings.json for all three services (the Retrainer's, copied last),
        // which exports metrics on 9464: two children started together then raced for the port and the loser died
        // building its listener. A test that wants the endpoint sets Metrics:Port to a free port itself.
        start.Environment["Metrics__Port"] = "0";
        foreach (var (key, value) in settings.AsEnvironment()) start.Environment[key] = value;
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment[$"Logging__LogLevel__PopSteer.{service}"] = "Information";
        start.Environment["Logging__Console__FormatterName"] = "simple";
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var ingest = new ServiceProcess(process);
        process.OutputDataReceived += (_, e) => ingest.Record(e.Data);
        process.ErrorDataReceived += (_, e) => ingest.Record(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return ingest;
    }

    /// <summary>SIGKILL: no shutdown code runs, nothing is flushed or committed.</summary>
    public void KillHard()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    /// <summary>SIGTERM: the host's graceful shutdown (finish the batch, commit, leave the group).</summary>
    public bool Terminate(TimeSpan timeout)
    {
        if (_process.HasExited) return true;
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            kill.WaitForExit();
        return _process.WaitForExit(timeout);
    }

    public void Dispose()
    {
        KillHard();
        _process.Dispose();
    }

    private void Record(string? line)
    {
        if (line is null) return;
        lock (_output) _output.Add(line);
    }
}
