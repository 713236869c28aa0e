namespace PopSteer.Streaming.Tests.Infrastructure;

/// <summary>Polls a condition until it holds; the timeout only bounds a failing test, it asserts nothing about speed.</summary>
public static class Eventually
{
    public static async Task Until(Func<Task<bool>> condition, TimeSpan timeout, Func<string> describe)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Not reached within {timeout}: {describe()}");
            await Task.Delay(100);
        }
    }

    public static Task Until(Func<bool> condition, TimeSpan timeout, Func<string> describe) =>
        Until(() => Task.FromResult(condition()), timeout, describe);
}
