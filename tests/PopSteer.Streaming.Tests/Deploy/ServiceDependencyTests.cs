using System.Xml.Linq;

namespace PopSteer.Streaming.Tests.Deploy;

/// <summary>
/// The embedded broker and the private redis-server stand in for Kafka and Redis in the demo, the benches and the
/// tests. They live in PopSteer.Embedded so that no service image carries them: a service that reached them, directly
/// or through a library, would ship a mock broker that loses data by design.
/// </summary>
public sealed class ServiceDependencyTests
{
    public static TheoryData<string> Services => new() { "src/Ingest/Ingest.csproj", "src/Scorer/Scorer.csproj", "src/Retrainer/Retrainer.csproj" };

    [Theory]
    [MemberData(nameof(Services))]
    public void No_service_references_the_embedded_stand_ins(string project)
    {
        var closure = ProjectClosure(RepositoryRoot.Combine(project.Split('/')));

        // The walk itself must reach the shared library, or an empty closure would pass.
        Assert.Contains(closure, p => Path.GetFileName(p) == "PopSteer.Streaming.csproj");
        Assert.DoesNotContain(closure, p => Path.GetFileName(p) == "PopSteer.Embedded.csproj");
    }

    [Fact]
    public void The_demo_and_the_tests_do_reference_them()
    {
        Assert.Contains(ProjectClosure(RepositoryRoot.Combine("src", "PopSteer.Cli", "PopSteer.Cli.csproj")),
            p => Path.GetFileName(p) == "PopSteer.Embedded.csproj");
        Assert.Equal("PopSteer.Embedded", typeof(PopSteer.Embedded.EmbeddedKafkaBroker).Assembly.GetName().Name);
        Assert.Equal("PopSteer.Embedded", typeof(PopSteer.Embedded.LocalRedisServer).Assembly.GetName().Name);
    }

    /// <summary>Every project reachable through ProjectReference items from <paramref name="project"/>, itself included.</summary>
    private static HashSet<string> ProjectClosure(string project)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([Path.GetFullPath(project)]);
        while (pending.TryPop(out var current))
        {
            if (!seen.Add(current)) continue;
            var directory = Path.GetDirectoryName(current)!;
            foreach (var reference in XDocument.Load(current).Descendants("ProjectReference"))
            {
                var include = reference.Attribute("Include")?.Value ?? throw new InvalidDataException($"{current}: a ProjectReference without Include.");
                pending.Push(Path.GetFullPath(Path.Combine(directory, include.Replace('\\', '/'))));
            }
        }
        return seen;
    }
}
