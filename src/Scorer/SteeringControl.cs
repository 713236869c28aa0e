using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace PopSteer.Scorer;

/// <summary>
/// Turns the live <see cref="SteeringOptions"/> into the steering of the next batch. A value the model cannot use
/// (negative or non-finite alpha, N above the SAE width, text that is not a number) is refused and logged once,
/// and the last good value stays in force.
/// </summary>
public sealed class SteeringControl(IOptionsMonitor<SteeringOptions> monitor, ScorerMetrics metrics, ILogger<SteeringControl> logger)
{
    private (double Alpha, int? Neurons)? _lastGood;
    private string? _lastRefusal;
    private string? _lastClamp;

    /// <summary>The start-up check: a bad initial value stops the service with a message naming the key.</summary>
    public static void ValidateAtStartup(SteeringOptions options)
    {
        var failures = new List<string>();
        if (options.BindingError is not null) failures.Add($"Steering: {options.BindingError}");
        if (!double.IsFinite(options.Alpha) || options.Alpha < 0)
            failures.Add($"Steering:Alpha must be a finite number >= 0 (got {options.Alpha}).");
        if (options.Neurons is < 0)
            failures.Add($"Steering:Neurons must be >= 0 or left empty for all neurons (got {options.Neurons}).");
        if (failures.Count > 0) throw new OptionsValidationException(Options.DefaultName, typeof(SteeringOptions), failures);
    }

    /// <summary>Called by the scoring loop before each batch, on the loop's thread.</summary>
    public ActiveSteering Resolve(ServingModel model)
    {
        var wanted = monitor.CurrentValue;
        if (wanted.BindingError is null)
        {
            var candidate = TryPlan(model, wanted.Alpha, wanted.Neurons, out var error);
            if (candidate is not null)
            {
                if (_lastGood != (wanted.Alpha, wanted.Neurons))
                {
                    if (_lastGood is not null)
                        logger.LogInformation("Steering changed: alpha = {Alpha}, N = {Neurons}", candidate.Alpha, candidate.Neurons);
                    _lastGood = (wanted.Alpha, wanted.Neurons);
                    _lastRefusal = null;
                }
                return candidate;
            }
            Refuse($"Steering:Alpha = {wanted.Alpha}, Steering:Neurons = {wanted.Neurons?.ToString() ?? "(all)"} refused: {error}");
        }
        else
        {
            Refuse($"Steering section refused: {wanted.BindingError}");
        }

        if (_lastGood is { } good)
        {
            // The last good N may exceed a newly swapped model's width; clamp rather than stop serving.
            int? neurons = good.Neurons is { } n ? Math.Min(n, model.Model.SaeWidth) : null;
            return TryPlan(model, good.Alpha, neurons, out _)
                ?? throw new InvalidOperationException("The last good steering value no longer fits the model.");
        }
        // Nothing good yet: typically Steering:Neurons above this model's SAE width at start-up (a ConfigMap written
        // for a wider model). Serve the wanted alpha on all of this model's neurons rather than stop serving.
        if (wanted.BindingError is null && double.IsFinite(wanted.Alpha) && wanted.Alpha >= 0 && wanted.Neurons is > 0)
        {
            int width = model.Model.SaeWidth;
            var clamped = TryPlan(model, wanted.Alpha, Math.Min(wanted.Neurons.Value, width), out _);
            if (clamped is not null)
            {
                var note = $"Steering:Neurons = {wanted.Neurons} exceeds the SAE width {width} of model {model.Version}: steering all {width} neurons at alpha = {wanted.Alpha} until it is fixed";
                if (note != _lastClamp) logger.LogError("{Message}", note);
                _lastClamp = note;
                return clamped;
            }
        }
        throw new InvalidOperationException("No valid steering value has been configured yet (see the Steering section).");
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
        metrics.SteeringRefused();
        logger.LogError("{Message}; keeping alpha = {Alpha}, N = {Neurons}", message,
            _lastGood?.Alpha, _lastGood?.Neurons?.ToString() ?? "(all)");
    }
}
