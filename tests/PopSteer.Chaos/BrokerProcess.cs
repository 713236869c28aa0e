using System.Diagnostics;

namespace PopSteer.Chaos;

/// <summary>`popsteer broker` as a child process: the embedded Kafka (librdkafka mock cluster), reached over TCP.</summary>
public sealed class BrokerProcess : IAsyncDisposable
{
    private readonly Process _process;

    private BrokerProcess(Process process, string bootstrapServers)
    {
        _process = process;
        BootstrapServers = bootstrapServers;
    }

    public string BootstrapServers { get; }

    public bool IsRunning => !_process.HasExited;

    public static async Task<BrokerProcess> StartAsync(string cliDll, string logPath)
    {
        var start = new ProcessStartInfo("dotnet", [cliDll, "broker", "--brokers", "3"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("`popsteer broker` did not start.");
        var log = new StreamWriter(logPath, append: true) { AutoFlush = true };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var line = await process.StandardOutput.ReadLineAsync(timeout.Token);
        if (string.IsNullOrWhiteSpace(line) || !line.Contains(':', StringComparison.Ordinal))
            throw new InvalidOperationException($"`popsteer broker` printed no bootstrap servers (got '{line}'); see {logPath}.");
        return new BrokerProcess(process, line.Trim());
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            Signals.Send(_process.Id, UnixSignal.TERM);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try { await _process.WaitForExitAsync(timeout.Token); }
            catch (OperationCanceledException) { _process.Kill(); }
        }
        _process.Dispose();
    }
}
