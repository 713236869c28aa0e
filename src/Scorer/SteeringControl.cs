using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PopSteer.Streaming.Configuration;

namespace PopSteer.Scorer;

/// <summary>
/// Turns the live <see cref="SteeringOptions"/> into the steering of the next batch. A value the model cannot use
/// (negative or non-finite alpha, N above the SAE width, text that is not a number) is refused and logged once,
/// and the last good value stays in force. Every change is looked at when it arrives, not only when a batch runs:
/// a replica that scores nothing between a valid edit and an invalid one must still have taken the valid one, or
/// replicas reading the same file would serve different alphas. After a refusal the configuration files are read
/// again at once, so a half-written file converges on what it says now. The value in force is the gauge
/// <c>popsteer.scorer.alpha.applied</c>.
/// </summary>
public sealed class SteeringControl : IDisposable
{
    private readonly IOptionsMonitor<SteeringOptions> _monitor;
    private readonly ScorerMetrics _metrics;
    private readonly ILogger<SteeringControl> _logger;
    private readonly IConfiguration? _configuration;
    private readonly IDisposable? _subscription;
    private readonly Lock _gate = new();
    private (double Alpha, int? Neurons)? _lastGood;
    private string? _lastRefusal;
    private int? _width; // the SAE width of the last model a batch used

    public SteeringControl(IOptionsMonitor<SteeringOptions> monitor, ScorerMetrics metrics, ILogger<SteeringControl> logger, IConfiguration? configuration = null)
    {
        _monitor = monitor;
        _metrics = metrics;
        _logger = logger;
        _configuration = configuration;
        Observe(monitor.CurrentValue, initial: true);
        _subscription = monitor.OnChange(o => Observe(o, initial: false));
    }

    /// <summary>The start-up check: a bad initial value stops the service with a message naming the key.</summary>
    public static void ValidateAtStartup(SteeringOptions options)
    {
        var failures = Check(options, width: null);
        if (failures.Count > 0) throw new OptionsValidationException(Options.DefaultName, typeof(SteeringOptions), failures);
    }

    /// <summary>The value in force now (what the next batch uses, before clamping N to its model); null before any.</summary>
    public (double Alpha, int? Neurons)? Applied
    {
        get { lock (_gate) return _lastGood; }
    }

    /// <summary>Called before each batch is scored: on the loop's thread, or on a pool thread when batches are scored concurrently.</summary>
    public ActiveSteering Resolve(ServingModel model)
    {
        lock (_gate)
        {
            _width = model.Model.SaeWidth;
            var wanted = _monitor.CurrentValue;
            var failures = Check(wanted, _width);
            if (failures.Count == 0)
            {
                var candidate = TryPlan(model, wanted.Alpha, wanted.Neurons, out var error);
                if (candidate is not null)
                {
                    Accept(wanted.Alpha, wanted.Neurons, initial: false);
                    return candidate;
                }
                Refuse($"Steering:Alpha = {wanted.Alpha}, Steering:Neurons = {wanted.Neurons?.ToString() ?? "(all)"} refused: {error}");
            }
            else
            {
                // The same words as when the change arrived, so one bad edit is logged and counted once.
                Refuse($"Steering refused: {string.Join(" ", failures)}");
            }

            if (_lastGood is { } good)
            {
                // The last good N may exceed a newly swapped model's width; clamp rather than stop serving.
                int? neurons = good.Neurons is { } n ? Math.Min(n, model.Model.SaeWidth) : null;
                return TryPlan(model, good.Alpha, neurons, out _)
                    ?? throw new InvalidOperationException("The last good steering value no longer fits the model.");
            }
            throw new InvalidOperationException("No valid steering value has been configured yet (see the Steering section).");
        }
    }

    public void Dispose() => _subscription?.Dispose();

    /// <summary>A change as it arrives (configuration reload thread): checked as far as it can be without a batch's model.</summary>
    private void Observe(SteeringOptions wanted, bool initial)
    {
        lock (_gate)
        {
            var failures = Check(wanted, _width);
            if (failures.Count == 0) Accept(wanted.Alpha, wanted.Neurons, initial);
            else if (!initial) Refuse($"Steering refused: {string.Join(" ", failures)}");
        }
    }

    private static List<string> Check(SteeringOptions options, int? width)
    {
        var failures = new List<string>();
        if (options.BindingError is not null) failures.Add($"Steering: {options.BindingError}");
        if (!double.IsFinite(options.Alpha) || options.Alpha < 0)
            failures.Add($"Steering:Alpha must be a finite number >= 0 (got {options.Alpha}).");
        if (options.Neurons is < 0)
            failures.Add($"Steering:Neurons must be >= 0 or left empty for all neurons (got {options.Neurons}).");
        else if (options.Neurons > width)
            failures.Add($"Steering:Neurons = {options.Neurons} is more than the model's {width} SAE neurons.");
        return failures;
    }

    private void Accept(double alpha, int? neurons, bool initial)
    {
        if (_lastGood == (alpha, neurons)) return;
        if (_lastGood is not null && !initial)
            _logger.LogInformation("Steering changed: alpha = {Alpha}, N = {Neurons}", alpha, neurons?.ToString() ?? "(all)");
        _lastGood = (alpha, neurons);
        _lastRefusal = null;
        _metrics.SteeringApplied(alpha);
    }

    private static ActiveSteering? TryPlan(ServingModel model, double alpha, int? neurons, out string? error)
    {
        int n = neurons ?? model.Model.SaeWidth;
        try
        {
            error = null;
            return new ActiveSteering(alpha, n, model.Model.PlanFor(alpha, n));
        }
        catch (ArgumentOutOfRangeException e)
        {
            error = e.Message;
            return null;
        }
    }

    private void Refuse(string message)
    {
        if (message == _lastRefusal) return;
        _lastRefusal = message;
        _metrics.SteeringRefused();
        _logger.LogError("{Message}; keeping alpha = {Alpha}, N = {Neurons}", message,
            _lastGood?.Alpha, _lastGood?.Neurons?.ToString() ?? "(all)");
        // Read the source again now (off this thread: a reload calls back into Observe): the refused value may be a
        // half-written file, and every replica must end on what the file says, not on what it happened to read.
        if (_configuration is { } configuration)
            ThreadPool.QueueUserWorkItem(_ => configuration.RereadPopSteerConfigFiles());
    }
}
