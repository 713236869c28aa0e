using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using PopSteer.Ingest;
using PopSteer.Retrainer;
using PopSteer.Scorer;
using PopSteer.Streaming.Configuration;

namespace PopSteer.Streaming.Tests.Configuration;

/// <summary>Unknown keys stop a service at start-up, so every configuration the repository ships must have none.</summary>
public sealed class ShippedConfigurationTests
{
    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "PopSteer.Stream.sln"))) return directory.FullName;
        throw new DirectoryNotFoundException($"No PopSteer.Stream.sln above {AppContext.BaseDirectory}.");
    }

    /// <summary>The popsteer.json embedded in deploy/k8s/base/config.yaml (the block under "popsteer.json: |").</summary>
    private static string KubernetesConfigMapJson(string root)
    {
        var lines = File.ReadAllLines(Path.Combine(root, "deploy", "k8s", "base", "config.yaml"));
        var start = Array.FindIndex(lines, l => l.Trim() == "popsteer.json: |") + 1;
        Assert.True(start > 0, "deploy/k8s/base/config.yaml has no popsteer.json block");
        return string.Join('\n', lines.Skip(start).TakeWhile(l => l.StartsWith("    ", StringComparison.Ordinal) || l.Trim().Length == 0));
    }

    [Theory]
    [InlineData("Ingest")]
    [InlineData("Scorer")]
    [InlineData("Retrainer")]
    public void Each_services_appsettings_and_the_kubernetes_configmap_name_only_known_keys(string service)
    {
        var root = RepositoryRoot();
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(root, "src", service, "appsettings.json"), optional: true) // the Scorer ships none
            .AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(KubernetesConfigMapJson(root))))
            .Build();
        var services = new ServiceCollection();
        _ = service switch
        {
            "Ingest" => services.AddIngest(configuration),
            "Scorer" => services.AddScorer(configuration),
            _ => services.AddRetrainer(configuration),
        };
        services.AddPopSteerMetrics(configuration, "test");
        var schema = (PopSteerConfigurationSchema)services.Single(d => d.ServiceType == typeof(PopSteerConfigurationSchema)).ImplementationInstance!;

        Assert.Contains("Kafka", schema.Sections);
        Assert.Empty(schema.UnknownKeys(configuration.AsEnumerable().Select(kv => kv.Key)));
    }
}
