namespace PopSteer.Core.Scoring;

/// <summary>Which user vector scores the items: SASRec's x_u, the SAE's x_hat_u, or the steered x_hat_u.</summary>
public enum ScoringMethod
{
    SasRec,
    Sae,
    PopSteer,
}
