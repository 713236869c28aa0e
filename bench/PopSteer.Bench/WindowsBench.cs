using PopSteer.Core.Data;
using PopSteer.Core.Training;

namespace PopSteer.Bench;

/// <summary>The cost side of the window choice: windows and input positions per epoch for strides 1 (exact RecBole), 25 (default) and 50.</summary>
internal static class WindowsBench
{
    public static int Run(Args a)
    {
        var data = a.Get("data") is { } path
            ? PopSteerFitter.LoadData(path)
            : SequenceDataset.FromInteractions(SyntheticDataGenerator.Generate(new SyntheticDataOptions(a.Int("users", 6000), a.Int("items", 3400), a.Int("interactions", 1_000_000))));
        var split = LeaveOneOutSplit.Create(data, 50);
        long longUsers = split.TrainSequences.Count(s => s.Length > 51);
        Console.WriteLine($"{data.UserIds.Count} users ({longUsers} with more than 51 training items), {split.TrainingSamples} training samples");
        foreach (int stride in new[] { 1, 10, 25, 50 })
        {
            var plan = TrainingWindows.Plan(split.TrainSequences, 50, stride);
            Console.WriteLine($"stride {stride,2}: {plan.Items.Count,8} windows, {plan.Tokens,10} input positions per epoch ({(double)plan.Tokens / plan.Targets:F2} per target), targets after the 50th see at least {50 - stride + 1} items");
        }
        return 0;
    }
}
