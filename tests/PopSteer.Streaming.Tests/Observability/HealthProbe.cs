using System.Net;

namespace PopSteer.Streaming.Tests.Observability;

/// <summary>GETs /healthz or /readyz the way a kubelet's httpGet probe does: the status code decides, the body says why.</summary>
internal sealed class HealthProbe(int port) : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public Task<(HttpStatusCode Status, string Body)> LiveAsync() => GetAsync("/healthz");

    public Task<(HttpStatusCode Status, string Body)> ReadyAsync() => GetAsync("/readyz");

    public async Task<(HttpStatusCode Status, string Body)> GetAsync(string path)
    {
        using var response = await _http.GetAsync($"http://127.0.0.1:{port}{path}");
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public void Dispose() => _http.Dispose();
}
