using Microsoft.Extensions.Configuration;

namespace PopSteer.Streaming.Configuration;

/// <summary>Configuration sources every PopSteer host adds beyond the defaults.</summary>
public static class PopSteerConfiguration
{
    /// <summary>Environment variable naming a directory with popsteer.json (a mounted Kubernetes ConfigMap).</summary>
    public const string ConfigDirectoryVariable = "POPSTEER_CONFIG_DIR";

    /// <summary>
    /// Adds $POPSTEER_CONFIG_DIR/popsteer.json (optional, polled for changes, a broken version refused: see
    /// <see cref="PopSteerConfigFileProvider"/>) after the defaults, then environment variables again so that per-pod
    /// variables still win over the shared file.
    /// </summary>
    public static IConfigurationBuilder AddPopSteerConfigDirectory(this IConfigurationBuilder configuration)
    {
        var directory = Environment.GetEnvironmentVariable(ConfigDirectoryVariable);
        if (string.IsNullOrWhiteSpace(directory)) return configuration;
        return configuration.AddPopSteerConfigFile(Path.Combine(directory, "popsteer.json")).AddEnvironmentVariables();
    }

    /// <summary>Adds one PopSteer configuration file (see <see cref="PopSteerConfigFileProvider"/>).</summary>
    public static IConfigurationBuilder AddPopSteerConfigFile(this IConfigurationBuilder configuration, string path, TimeSpan? pollInterval = null) =>
        configuration.Add(new PopSteerConfigFileSource { Path = path, PollInterval = pollInterval ?? TimeSpan.FromSeconds(2) });

    /// <summary>The PopSteer configuration files behind <paramref name="configuration"/> (none when it has no root).</summary>
    public static IEnumerable<PopSteerConfigFileProvider> PopSteerConfigFiles(this IConfiguration configuration) =>
        configuration is IConfigurationRoot root ? root.Providers.OfType<PopSteerConfigFileProvider>() : [];

    /// <summary>
    /// Reads the configuration files again now instead of at the next poll: a service that has just refused a value
    /// calls this so that it converges on what the file says now, not on a half-written version it happened to read.
    /// </summary>
    public static void RereadPopSteerConfigFiles(this IConfiguration configuration)
    {
        foreach (var file in configuration.PopSteerConfigFiles()) file.Poll();
    }
}
