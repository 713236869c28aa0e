namespace PopSteer.Chaos;

/// <summary>
/// One exit of a supervised process. <see cref="Cause"/> says what the drill did to it ("kill -9", "SIGTERM",
/// "drill end"); null means nobody asked it to go: a crash, whatever the exit code.
/// </summary>
public sealed record ProcessExit(string Name, int Pid, DateTimeOffset StartedAt, DateTimeOffset ExitedAt, int ExitCode, string? Cause, string LastLines)
{
    public bool Crashed => Cause is null;
}
