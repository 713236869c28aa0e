using System.Diagnostics;

namespace PopSteer.Chaos;

/// <summary>
/// A child process restarted whenever it exits, as a restart-on-failure policy would (1 s, doubling up to 8 s
/// while it keeps dying within 10 s of starting). Every exit is recorded with its exit code and whether the drill
/// caused it; output goes to a log file, line by line, and to an optional observer.
/// </summary>
public sealed class SupervisedProcess : IAsyncDisposable
{
    private readonly ProcessStartInfo _start;
    private readonly StreamWriter _log;
    private readonly Action<string, string>? _observe;
    private readonly Lock _gate = new();
    private readonly List<ProcessExit> _exits = [];
    private readonly Dictionary<int, string> _causes = [];
    private readonly Queue<string> _tail = new();
    private readonly CancellationTokenSource _stopping = new();
    private Process? _process;
    private DateTimeOffset _startedAt;
    private Task? _loop;
    private bool _closed;
    private bool _disposed;

    public SupervisedProcess(string name, ProcessStartInfo start, string logPath, Action<string, string>? observe = null)
    {
        Name = name;
        _start = start;
        _start.RedirectStandardOutput = true;
        _start.RedirectStandardError = true;
        _start.UseShellExecute = false;
        _observe = observe;
        _log = new StreamWriter(logPath, append: true) { AutoFlush = true };
    }

    public string Name { get; }

    /// <summary>Processes started so far (the first start included).</summary>
    public int Starts { get; private set; }

    public IReadOnlyList<ProcessExit> Exits { get { lock (_gate) return _exits.ToArray(); } }

    /// <summary>The running process's id, or null while it is down.</summary>
    public int? Pid { get { lock (_gate) return _process is { HasExited: false } p ? p.Id : null; } }

    /// <summary>When the running process started; null while down.</summary>
    public DateTimeOffset? UpSince { get { lock (_gate) return _process is { HasExited: false } ? _startedAt : null; } }

    public void Start() => _loop = Task.Run(SuperviseAsync);

    /// <summary>Signals the running process; its exit (if the signal ends it) is recorded with <paramref name="cause"/>.</summary>
    public bool Signal(UnixSignal signal, string cause)
    {
        int pid;
        lock (_gate)
        {
            if (_process is not { HasExited: false } p) return false;
            pid = p.Id;
            if (signal is UnixSignal.KILL or UnixSignal.TERM) _causes[pid] = cause;
        }
        Write($"### drill: {cause} (pid {pid})");
        return Signals.Send(pid, signal);
    }

    /// <summary>Stops supervising, then SIGTERM and up to <paramref name="grace"/> for a clean exit, then SIGKILL.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (_disposed) return;
        if (!_stopping.IsCancellationRequested) await _stopping.CancelAsync();
        Process? p;
        lock (_gate) p = _process;
        if (p is { HasExited: false })
        {
            Signal(UnixSignal.TERM, "drill end");
            using var timeout = new CancellationTokenSource(grace);
            try { await p.WaitForExitAsync(timeout.Token); }
            catch (OperationCanceledException)
            {
                Write($"### drill: no exit {grace.TotalSeconds:F0} s after SIGTERM; kill -9");
                lock (_gate) _causes[p.Id] = "drill end (hung on SIGTERM, killed)";
                Signals.Send(p.Id, UnixSignal.KILL);
            }
        }
        if (_loop is not null) await _loop;
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        await StopAsync(TimeSpan.FromSeconds(5));
        _disposed = true;
        lock (_log)
        {
            _closed = true;
            _log.Dispose();
        }
        _stopping.Dispose();
    }

    private async Task SuperviseAsync()
    {
        var backoff = TimeSpan.FromSeconds(1);
        while (!_stopping.IsCancellationRequested)
        {
            var process = new Process { StartInfo = _start, EnableRaisingEvents = true };
            process.OutputDataReceived += (_, e) => OnLine(e.Data);
            process.ErrorDataReceived += (_, e) => OnLine(e.Data);
            lock (_gate)
            {
                process.Start();
                _process = process;
                _startedAt = DateTimeOffset.UtcNow;
                Starts++;
            }
            Write($"### drill: started pid {process.Id}");
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            await process.WaitForExitAsync();
            var exitedAt = DateTimeOffset.UtcNow;
            ProcessExit exit;
            lock (_gate)
            {
                _causes.Remove(process.Id, out var cause);
                exit = new ProcessExit(Name, process.Id, _startedAt, exitedAt, process.ExitCode, cause, string.Join('\n', _tail));
                _exits.Add(exit);
                _process = null;
            }
            Write($"### drill: pid {exit.Pid} exited with code {exit.ExitCode} ({exit.Cause ?? "CRASH: nobody asked it to stop"})");
            process.Dispose();
            if (_stopping.IsCancellationRequested) break;
            backoff = exitedAt - exit.StartedAt < TimeSpan.FromSeconds(10) && exit.Crashed
                ? TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(8).Ticks))
                : TimeSpan.FromSeconds(1);
            try { await Task.Delay(backoff, _stopping.Token); }
            catch (OperationCanceledException) { break; }
        }
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        lock (_gate)
        {
            _tail.Enqueue(line);
            while (_tail.Count > 12) _tail.Dequeue();
        }
        Write(line);
        _observe?.Invoke(Name, line);
    }

    private void Write(string line)
    {
        lock (_log)
        {
            // Output can still arrive while the log closes at the very end.
            if (!_closed) _log.WriteLine($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} {line}");
        }
    }
}
