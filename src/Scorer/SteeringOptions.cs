namespace PopSteer.Scorer;

/// <summary>
/// Section "Steering": the knob ops turn live (appsettings, environment, a mounted ConfigMap file). Read through
/// IOptionsMonitor before every batch; see <see cref="SteeringControl"/> for how bad values are refused.
/// </summary>
public sealed class SteeringOptions
{
    public const string SectionName = "Steering";

    /// <summary>Steering strength; 0 reproduces the unsteered SAE exactly. Must be finite and at least 0.</summary>
    public double Alpha { get; set; } = 1.5;

    /// <summary>Number of neurons steered (largest |Cohen's d| first); null = all of the SAE's neurons.</summary>
    public int? Neurons { get; set; }

    /// <summary>
    /// Set when the section could not be bound (e.g. Alpha = "abc"); the binder skips this property because its
    /// setter is not public. A bad value must reach <see cref="SteeringControl"/> as a refusal, never as an
    /// exception thrown inside the configuration reload.
    /// </summary>
    public string? BindingError { get; internal set; }
}
