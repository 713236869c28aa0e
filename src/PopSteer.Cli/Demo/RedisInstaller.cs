using System.Diagnostics;
using PopSteer.Embedded;

namespace PopSteer.Cli.Demo;

/// <summary>The demo runs on a fresh Debian machine: when redis-server is missing it installs Debian's package.</summary>
internal static class RedisInstaller
{
    public static void EnsureInstalled(Action<string> say)
    {
        if (LocalRedisServer.FindExecutable() is not null) return;
        if (!OperatingSystem.IsLinux() || !File.Exists("/usr/bin/apt-get"))
            throw new InvalidOperationException("redis-server is not installed and this is not a Debian-like system: install Redis and run the demo again.");
        bool root = Environment.UserName == "root";
        say("redis-server is missing: installing Debian's redis-server package ...");
        Run(root ? "apt-get" : "sudo", (root ? "" : "apt-get ") + "update -qq");
        Run(root ? "apt-get" : "sudo", (root ? "" : "apt-get ") + "install -y -qq redis-server");
        // The package starts a system-wide instance; the demo never uses it.
        try { Run(root ? "systemctl" : "sudo", (root ? "" : "systemctl ") + "disable --now redis-server"); } catch (InvalidOperationException) { }
        if (LocalRedisServer.FindExecutable() is null) throw new InvalidOperationException("apt-get finished but redis-server is still not on PATH.");
    }

    private static void Run(string file, string arguments)
    {
        var start = new ProcessStartInfo(file, arguments) { UseShellExecute = false };
        start.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"'{file} {arguments}' failed with exit code {process.ExitCode}.");
    }
}
