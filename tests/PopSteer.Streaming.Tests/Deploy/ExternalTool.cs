using System.Diagnostics;

namespace PopSteer.Streaming.Tests.Deploy;

/// <summary>A command-line tool the deploy checks use when the machine has it (kubectl, promtool).</summary>
internal static class ExternalTool
{
    /// <summary>The tool's full path on PATH, or null.</summary>
    public static string? Find(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    /// <summary>Runs the tool to completion; throws with its output if it exits non-zero and <paramref name="check"/>.</summary>
    public static (int ExitCode, string Output, string Error) Run(string name, IEnumerable<string> arguments, bool check = true, string? workingDirectory = null)
    {
        var path = Find(name) ?? throw new InvalidOperationException($"{name} is not on PATH.");
        var start = new ProcessStartInfo(path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? RepositoryRoot.Path,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(120)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{name} {string.Join(' ', start.ArgumentList)} did not finish within 120 s.");
        }
        var result = (process.ExitCode, output.Result, error.Result);
        if (check && process.ExitCode != 0)
            throw new InvalidOperationException($"{name} {string.Join(' ', start.ArgumentList)} exited {process.ExitCode}:\n{result.Item3}\n{result.Item2}");
        return result;
    }
}

/// <summary>A fact that runs only where kubectl (with its built-in kustomize) is installed; CI's machine has it.</summary>
public sealed class KubectlFactAttribute : FactAttribute
{
    public KubectlFactAttribute()
    {
        if (ExternalTool.Find("kubectl") is null)
            Skip = "kubectl is not on PATH: the Kubernetes manifests were not rendered (install kubectl, which carries kustomize, to run this check).";
    }
}

/// <summary>A theory that runs only where kubectl is installed.</summary>
public sealed class KubectlTheoryAttribute : TheoryAttribute
{
    public KubectlTheoryAttribute()
    {
        if (ExternalTool.Find("kubectl") is null)
            Skip = "kubectl is not on PATH: the Kubernetes manifests were not rendered (install kubectl, which carries kustomize, to run this check).";
    }
}

/// <summary>A fact that runs only where promtool (Debian's `prometheus` package; scripts/ensure-prereqs.sh installs it) is installed.</summary>
public sealed class PromtoolFactAttribute : FactAttribute
{
    public PromtoolFactAttribute()
    {
        if (ExternalTool.Find("promtool") is null)
            Skip = "promtool is not on PATH: the alert rules were not checked (scripts/ensure-prereqs.sh installs Debian's prometheus package, which carries it).";
    }
}
