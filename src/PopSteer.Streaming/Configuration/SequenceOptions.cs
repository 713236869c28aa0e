using System.ComponentModel.DataAnnotations;

namespace PopSteer.Streaming.Configuration;

/// <summary>Section "Sequences": how much of each user's history Redis keeps.</summary>
public sealed class SequenceOptions
{
    public const string SectionName = "Sequences";

    /// <summary>Items kept per user, newest last; keep it at least the model's max length (50 in the paper).</summary>
    [Range(1, 100_000, ErrorMessage = "Sequences:MaxLength must be between 1 and 100000 (at least the model's max length).")]
    public int MaxLength { get; set; } = 200;

    /// <summary>
    /// Idle users' keys expire after this long; zero (or null) keeps them forever. The default, 30 days, bounds Redis
    /// memory by the users active in a month, and stays far above Kafka's default 7-day retention, so no event can be
    /// redelivered after its user's applied offsets have expired (which would append it twice).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "3650.00:00:00", ErrorMessage = "Sequences:IdleTtl must be between 00:00:00 (no expiry) and 3650 days.")]
    public TimeSpan? IdleTtl { get; set; } = DefaultIdleTtl;

    public static readonly TimeSpan DefaultIdleTtl = TimeSpan.FromDays(30);
}
