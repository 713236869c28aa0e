using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace PopSteer.Streaming.DependencyInjection;

/// <summary>
/// A service whose worker has died must not exit with code 0: restart-on-failure policies and exit-code alerts would
/// miss it. When any <see cref="BackgroundService"/> faults, or ends on its own while the host is not stopping, this
/// logs it as critical, stops the host and sets the process exit code to <see cref="FailureExitCode"/>. Only when
/// the failed worker belongs to the process's own program (the service's Program.cs): in-process hosts such as the
/// CLI's demo or a test runner keep their own exit codes.
/// </summary>
internal sealed class ServiceFailureExitCode(IServiceProvider services) : IHostedLifecycleService
{
    /// <summary>EX_SOFTWARE (sysexits.h): an internal software error.</summary>
    public const int FailureExitCode = 70;

    private BackgroundService[] _workers = [];

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        _workers = services.GetServices<IHostedService>().OfType<BackgroundService>().ToArray();
        foreach (var worker in _workers)
            worker.ExecuteTask?.ContinueWith(t => Ended(worker, t), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Also after the host has stopped: a worker that faulted while shutting down counts too.</summary>
    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        foreach (var worker in _workers)
            if (worker.ExecuteTask is { IsFaulted: true }) SetExitCode(worker);
        return Task.CompletedTask;
    }

    private void Ended(BackgroundService worker, Task task)
    {
        var lifetime = services.GetService<IHostApplicationLifetime>();
        var stopping = lifetime?.ApplicationStopping.IsCancellationRequested ?? true;
        if (!task.IsFaulted && stopping) return;
        var logger = services.GetService<ILoggerFactory>()?.CreateLogger<ServiceFailureExitCode>();
        if (task.IsFaulted)
            logger?.LogCritical(task.Exception?.GetBaseException(), "{Worker} failed; stopping the service (exit code {Code})", worker.GetType().Name, FailureExitCode);
        else
            logger?.LogCritical("{Worker} ended while the service was running; stopping the service (exit code {Code})", worker.GetType().Name, FailureExitCode);
        SetExitCode(worker);
        lifetime?.StopApplication();
    }

    private static void SetExitCode(BackgroundService worker)
    {
        if (worker.GetType().Assembly == Assembly.GetEntryAssembly()) Environment.ExitCode = FailureExitCode;
    }
}
