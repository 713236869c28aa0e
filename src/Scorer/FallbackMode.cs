namespace PopSteer.Scorer;

/// <summary>What a user with no scorable history gets.</summary>
public enum FallbackMode
{
    /// <summary>No recommendation is published for that user (the signal is still committed).</summary>
    None,

    /// <summary>
    /// The model's steered list for a generic user: a history made of the most popular training items, scored
    /// with the current steering plan. One list per (model version, alpha, N), computed once.
    /// </summary>
    SteeredGlobal,
}
