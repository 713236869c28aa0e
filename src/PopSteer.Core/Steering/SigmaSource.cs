namespace PopSteer.Core.Steering;

/// <summary>Which group's std scales a neuron's shift (METHOD.md section 6).</summary>
public enum SigmaSource
{
    /// <summary>The group the neuron does NOT favour (tail neuron: sigma_head). The authors' code; the default.</summary>
    Opposite,
    /// <summary>The favoured group's std (the option).</summary>
    Favoured,
}
