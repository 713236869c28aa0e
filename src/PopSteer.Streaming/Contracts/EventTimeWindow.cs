namespace PopSteer.Streaming.Contracts;

/// <summary>
/// Which event times are believable, relative to the validating host's clock. An event dated in the future would move
/// the Retrainer's decay landmark there (and stay checkpointed), so anything beyond <see cref="MaxFutureSkew"/> ahead
/// of now is refused. In the past, anything before <see cref="Floor"/> is a unit error (seconds sent as milliseconds
/// land in January 1970) while real historical logs (MovieLens 1997, Netflix 1998) must replay, so the default past
/// bound is that floor; <see cref="MaxAge"/> adds a bound relative to now for deployments that only take live traffic.
/// </summary>
public sealed record EventTimeWindow
{
    /// <summary>Older than this is never a real interaction log (and catches seconds sent as milliseconds).</summary>
    public static readonly DateTimeOffset Floor = new(1990, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static readonly TimeSpan DefaultMaxFutureSkew = TimeSpan.FromMinutes(5);

    public static EventTimeWindow Default { get; } = new();

    /// <summary>How far ahead of this host's clock an event may be dated (producer clocks drift).</summary>
    public TimeSpan MaxFutureSkew { get; init; } = DefaultMaxFutureSkew;

    /// <summary>How far behind now an event may be dated; null = only <see cref="Floor"/> (historical replays allowed).</summary>
    public TimeSpan? MaxAge { get; init; }
}
