using Microsoft.Extensions.Configuration;

namespace PopSteer.Streaming.Configuration;

/// <summary>Configuration sources every PopSteer host adds beyond the defaults.</summary>
public static class PopSteerConfiguration
{
    /// <summary>Environment variable naming a directory with popsteer.json (a mounted Kubernetes ConfigMap).</summary>
    public const string ConfigDirectoryVariable = "POPSTEER_CONFIG_DIR";

    /// <summary>
    /// Adds $POPSTEER_CONFIG_DIR/popsteer.json (optional, re-read on change) after the defaults, then environment
    /// variables again so that per-pod variables still win over the shared file.
    /// </summary>
    public static IConfigurationBuilder AddPopSteerConfigDirectory(this IConfigurationBuilder configuration)
    {
        var directory = Environment.GetEnvironmentVariable(ConfigDirectoryVariable);
        if (string.IsNullOrWhiteSpace(directory)) return configuration;
        return configuration
            .AddJsonFile(Path.Combine(directory, "popsteer.json"), optional: true, reloadOnChange: true)
            .AddEnvironmentVariables();
    }
}
