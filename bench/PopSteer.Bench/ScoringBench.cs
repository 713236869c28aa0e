namespace PopSteer.Bench;

internal static class ScoringBench
{
    public static int Run(Args a)
    {
        Console.WriteLine("scoring bench: not yet");
        return 0;
    }
}
