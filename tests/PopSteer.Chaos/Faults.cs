namespace PopSteer.Chaos;

/// <summary>What the drill can do to the running pipeline. One table row per kind.</summary>
public enum FaultKind
{
    /// <summary>SIGKILL of one Ingest process (restarted by the supervisor).</summary>
    KillIngest,
    /// <summary>SIGTERM of one Ingest process: graceful stop, then restarted.</summary>
    TermIngest,
    KillScorer,
    TermScorer,
    KillRetrainer,
    TermRetrainer,
    /// <summary>SIGSTOP of redis-server for 5-10 s, then SIGCONT: every client times out, nothing is refused.</summary>
    PauseRedis,
    /// <summary>SIGKILL of redis-server (AOF with fsync always), restarted on the same port.</summary>
    KillRedis,
    /// <summary>Every malformed kind of <see cref="MalformedMessages"/> produced at once.</summary>
    MalformedBurst,
    /// <summary>A model whose files were changed and whose manifest hashes were recomputed, written straight into Redis and announced.</summary>
    ForgedModel,
    /// <summary>popsteer.json with Steering:Alpah (a misspelled key), restored after a while.</summary>
    ConfigTypo,
    /// <summary>popsteer.json that does not parse, restored after a while.</summary>
    ConfigBrokenJson,
    /// <summary>popsteer.json with Steering:Alpha = -1 (refused), restored after a while.</summary>
    AlphaInvalid,
    /// <summary>A valid live edit of Steering:Alpha.</summary>
    AlphaEdit,
}

/// <summary>One planned injection: when (seconds after the replay starts), what, and at which process.</summary>
public sealed record FaultInjection(double AtSeconds, FaultKind Kind, string? Target)
{
    public override string ToString() => Target is null ? $"{AtSeconds,6:F1}s {Faults.Label(Kind)}" : $"{AtSeconds,6:F1}s {Faults.Label(Kind)} ({Target})";
}

public static class Faults
{
    /// <summary>Every kind, in table order.</summary>
    public static IReadOnlyList<FaultKind> All { get; } = Enum.GetValues<FaultKind>();

    /// <summary>The config-file faults, which the alpha check follows.</summary>
    public static bool IsConfig(FaultKind kind) => kind is FaultKind.ConfigTypo or FaultKind.ConfigBrokenJson or FaultKind.AlphaInvalid or FaultKind.AlphaEdit;

    /// <summary>The service a process fault targets, or null.</summary>
    public static string? Service(FaultKind kind) => kind switch
    {
        FaultKind.KillIngest or FaultKind.TermIngest => "ingest",
        FaultKind.KillScorer or FaultKind.TermScorer => "scorer",
        FaultKind.KillRetrainer or FaultKind.TermRetrainer => "retrainer",
        _ => null,
    };

    public static string Label(FaultKind kind) => kind switch
    {
        FaultKind.KillIngest => "kill -9 ingest",
        FaultKind.TermIngest => "SIGTERM ingest",
        FaultKind.KillScorer => "kill -9 scorer",
        FaultKind.TermScorer => "SIGTERM scorer",
        FaultKind.KillRetrainer => "kill -9 retrainer",
        FaultKind.TermRetrainer => "SIGTERM retrainer",
        FaultKind.PauseRedis => "redis SIGSTOP/CONT",
        FaultKind.KillRedis => "kill -9 redis (AOF)",
        FaultKind.MalformedBurst => "malformed burst",
        FaultKind.ForgedModel => "forged model",
        FaultKind.ConfigTypo => "config typo Alpah",
        FaultKind.ConfigBrokenJson => "config broken JSON",
        FaultKind.AlphaInvalid => "alpha -1 (invalid)",
        FaultKind.AlphaEdit => "live alpha edit",
        _ => kind.ToString(),
    };
}
