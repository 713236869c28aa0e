using System.Diagnostics;
using System.Text.Json.Nodes;
using PopSteer.Streaming.Tests.Deploy;
using PopSteer.Streaming.Tests.Infrastructure;

namespace PopSteer.Streaming.Tests.Observability;

/// <summary>
/// Debian's prometheus binary on a free loopback port, scraping one target every second and evaluating
/// deploy/monitoring's rule file, with its data in a scratch directory. Killed on dispose.
/// </summary>
internal sealed class LocalPrometheus : IDisposable
{
    private readonly Process _process;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly string _url;

    private LocalPrometheus(Process process, string url)
    {
        _process = process;
        _url = url;
    }

    public static bool Installed => ExternalTool.Find("prometheus") is not null;

    public static async Task<LocalPrometheus> StartAsync(string directory, int targetPort)
    {
        var port = FreePort.Next();
        Directory.CreateDirectory(directory);
        var config = Path.Combine(directory, "prometheus.yml");
        File.WriteAllText(config, $$"""
            global: { scrape_interval: 1s, evaluation_interval: 1s }
            rule_files: ["{{MonitoredSeries.RulesFile}}"]
            scrape_configs:
              - job_name: popsteer
                static_configs: [{ targets: ["127.0.0.1:{{targetPort}}"] }]
            """);
        var start = new ProcessStartInfo(ExternalTool.Find("prometheus")!)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in new[] { $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(directory, "data")}", $"--web.listen-address=127.0.0.1:{port}" })
            start.ArgumentList.Add(a);
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var prometheus = new LocalPrometheus(process, $"http://127.0.0.1:{port}");
        try
        {
            await Eventually.Until(async () =>
            {
                if (process.HasExited) throw new InvalidOperationException($"prometheus exited with {process.ExitCode}");
                try { return (await prometheus._http.GetAsync($"{prometheus._url}/-/ready")).IsSuccessStatusCode; }
                catch (HttpRequestException) { return false; }
            }, TimeSpan.FromSeconds(30), () => "prometheus did not become ready");
        }
        catch
        {
            prometheus.Dispose();
            throw;
        }
        return prometheus;
    }

    /// <summary>An instant query: the result vector, or an exception naming Prometheus' error.</summary>
    public async Task<JsonArray> QueryAsync(string expr)
    {
        var body = JsonNode.Parse(await _http.GetStringAsync($"{_url}/api/v1/query?query={Uri.EscapeDataString(expr)}"))!;
        if ((string?)body["status"] != "success") throw new InvalidOperationException($"query failed: {body["error"]}\n{expr}");
        return body["data"]!["result"]!.AsArray();
    }

    /// <summary>(rule name, health, last error) of every loaded rule.</summary>
    public async Task<List<(string Name, string Health, string? Error)>> RulesAsync()
    {
        var body = JsonNode.Parse(await _http.GetStringAsync($"{_url}/api/v1/rules"))!;
        return body["data"]!["groups"]!.AsArray()
            .SelectMany(g => g!["rules"]!.AsArray())
            .Select(r => ((string)r!["name"]!, (string)r["health"]!, (string?)r["lastError"]))
            .ToList();
    }

    public void Dispose()
    {
        _http.Dispose();
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }
}
