using System.Diagnostics.CodeAnalysis;

namespace PopSteer.Streaming.Contracts;

/// <summary>Either a valid event or the precise reason it is not one.</summary>
public readonly record struct InteractionValidationResult
{
    private InteractionValidationResult(InteractionEvent? @event, InvalidEventReason code, string? reason)
    {
        Event = @event;
        Code = code;
        Reason = reason;
    }

    public InteractionEvent? Event { get; }

    /// <summary>Meaningful only when <see cref="IsValid"/> is false.</summary>
    public InvalidEventReason Code { get; }

    public string? Reason { get; }

    [MemberNotNullWhen(true, nameof(Event))]
    [MemberNotNullWhen(false, nameof(Reason))]
    public bool IsValid => Event is not null;

    public static InteractionValidationResult Valid(InteractionEvent @event) => new(@event, default, null);

    public static InteractionValidationResult Invalid(InvalidEventReason code, string reason) => new(null, code, reason);
}
