using Microsoft.Extensions.Configuration;

namespace PopSteer.Streaming.Configuration;

/// <summary>The shared popsteer.json (a mounted ConfigMap) as a configuration source; see <see cref="PopSteerConfigFileProvider"/>.</summary>
public sealed class PopSteerConfigFileSource : IConfigurationSource
{
    public required string Path { get; init; }

    /// <summary>How often the file is re-read. Polled, not watched: a ConfigMap update swaps a symlink, which file watchers miss.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(2);

    public IConfigurationProvider Build(IConfigurationBuilder builder) => new PopSteerConfigFileProvider(this);
}
