using System.Net;
using System.Text;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace PopSteer.Streaming.Observability;

/// <summary>
/// Serves /healthz (checks tagged <see cref="HealthTags.Live"/>) and /readyz (<see cref="HealthTags.Ready"/>) on the
/// metrics port, beside the Prometheus exporter's /metrics: 200 when every check is healthy (or degraded), 503
/// otherwise, with one line per check saying why. .NET's HttpListener lets two listeners share a port by path.
/// </summary>
internal sealed class HealthEndpoint(HealthCheckService checks, MetricsOptions options, ILogger<HealthEndpoint> logger) : BackgroundService
{
    public const string LivePath = "/healthz";
    public const string ReadyPath = "/readyz";

    private readonly HttpListener _listener = new();

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var host = options.Host;
        _listener.Prefixes.Add($"http://{host}:{options.Port}{LivePath}/");
        _listener.Prefixes.Add($"http://{host}:{options.Port}{ReadyPath}/");
        // Started here, not in ExecuteAsync, so a port clash stops the host at start-up with the error.
        _listener.Start();
        logger.LogInformation("Health checks at http://{Host}:{Port}{Live} and {Ready}", host, options.Port, LivePath, ReadyPath);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var registration = stoppingToken.Register(_listener.Stop);
        while (!stoppingToken.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                if (stoppingToken.IsCancellationRequested) return;
                logger.LogWarning("Health endpoint: {Error}", e.Message);
                continue;
            }
            _ = RespondAsync(context, stoppingToken);
        }
    }

    private async Task RespondAsync(HttpListenerContext context, CancellationToken stoppingToken)
    {
        var response = context.Response;
        try
        {
            var path = context.Request.Url?.AbsolutePath.TrimEnd('/') ?? "";
            string? tag = path switch
            {
                LivePath => HealthTags.Live,
                ReadyPath => HealthTags.Ready,
                _ => null,
            };
            if (tag is null)
            {
                response.StatusCode = (int)HttpStatusCode.NotFound;
                return;
            }
            var report = await checks.CheckHealthAsync(r => r.Tags.Contains(tag), stoppingToken);
            response.StatusCode = report.Status == HealthStatus.Unhealthy ? (int)HttpStatusCode.ServiceUnavailable : (int)HttpStatusCode.OK;
            response.ContentType = "text/plain; charset=utf-8";
            var body = new StringBuilder().Append(report.Status).Append('\n');
            foreach (var (name, entry) in report.Entries)
                body.Append(name).Append(": ").Append(entry.Status).Append(" - ").Append(entry.Description ?? entry.Exception?.Message).Append('\n');
            var bytes = Encoding.UTF8.GetBytes(body.ToString());
            response.ContentLength64 = bytes.Length;
            await response.OutputStream.WriteAsync(bytes, stoppingToken);
        }
        catch (Exception e) when (e is HttpListenerException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The prober hung up, or we are stopping.
        }
        finally
        {
            try { response.Close(); } catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { }
        }
    }

    public override void Dispose()
    {
        base.Dispose();
        _listener.Close();
    }
}
