using PopSteer.Core.Data;
using PopSteer.Core.Model;
using PopSteer.Core.Training;
using static TorchSharp.torch;

namespace PopSteer.Core.Tests;

/// <summary>SASRec's default schedule: warm-up, the constant rate, and a cool-down at the budget's end or when patience runs out.</summary>
public sealed class CooldownScheduleTests
{
    [Fact]
    public void A_late_decay_start_keeps_the_peak_until_it_then_falls_along_a_half_cosine_to_zero()
    {
        var s = new LearningRateSchedule(1.0, WarmupSteps: 10, TotalSteps: 100, Cosine: true) { DecayStartStep = 60 };
        Assert.Equal(0.1, s.At(0), 12);                    // warm-up
        Assert.Equal(1.0, s.At(10), 12);
        Assert.Equal(1.0, s.At(59), 12);                   // constant until the cool-down
        Assert.Equal(1.0, s.At(60), 12);
        Assert.Equal(0.5, s.At(80), 12);                   // half-way down the half cosine
        Assert.Equal(0.0, s.At(100), 12);
        Assert.Equal(0.0, s.At(150), 12);
        // A start inside the warm-up is the classic cosine from the warm-up's end.
        var classic = new LearningRateSchedule(1.0, 10, 100, true);
        Assert.Equal(classic.At(40), (classic with { DecayStartStep = 3 }).At(40), 12);
    }

    [Fact]
    public void The_default_recipe_cools_down_over_its_last_ten_epochs_and_patience_can_start_it_sooner()
    {
        var o = new SasRecTrainingOptions();
        Assert.True(o.HasCooldown);
        Assert.Equal(30, o.CooldownStartEpoch); // a budget of 40: 30 epochs at the constant rate, never fewer (MinEpochs)
        Assert.False(o.CoolsDownAfter(29, 29));
        Assert.True(o.CoolsDownAfter(30, 30));  // the budget starts it even while validation still improves
        Assert.False(o.CoolsDownAfter(20, 5));  // patience ran out, but before MinEpochs
        var longer = o with { MaxEpochs = 200 };
        Assert.False(longer.CoolsDownAfter(45, 40));
        Assert.True(longer.CoolsDownAfter(50, 40)); // 10 epochs without a gain
        Assert.False(longer.StopsAfter(50, 40)); // with a cool-down, patience no longer stops training by itself
        Assert.True((longer with { CooldownEpochs = 0 }).StopsAfter(50, 40));
        Assert.False((o with { CosineDecay = true }).HasCooldown);
        Assert.Throws<ArgumentOutOfRangeException>(() => (o with { CooldownEpochs = -1 }).Validate());
    }

    [Fact]
    public void The_progress_line_shows_the_rate_so_a_watcher_sees_the_cool_down()
    {
        var line = new TrainingProgress("sasrec", 35, 40, 5.7, "valid ndcg@10", 0.25, 0.26, false, TimeSpan.FromMinutes(18), TimeSpan.FromMinutes(2))
            { LearningRate = 0.0015 };
        Assert.Contains("(best 0.2600) lr 1.5e-03 elapsed 00:18:00", line.ToString());
        Assert.DoesNotContain(" lr ", (line with { LearningRate = double.NaN }).ToString());
    }

    private static (SasRec Model, LeaveOneOutSplit Split) Tiny()
    {
        var rows = SyntheticDataGenerator.Generate(new SyntheticDataOptions(60, 30, 900, Seed: 5));
        var split = LeaveOneOutSplit.Create(SequenceDataset.FromInteractions(rows), 10);
        random.manual_seed(5);
        var model = new SasRec(new SasRecConfig { ItemCount = 30, Dim = 16, Blocks = 1, Heads = 2, FeedForward = 32, MaxLength = 10, Dropout = 0.1, AttentionDropout = 0.1 });
        return (model, split);
    }

    [Fact]
    public void Training_holds_the_rate_then_cools_it_to_near_zero_by_the_budgets_last_epoch()
    {
        var (model, split) = Tiny();
        using var _ = model;
        var result = SasRecTrainer.Train(model, split, new SasRecTrainingOptions
        {
            BatchSize = 64, MaxEpochs = 6, CooldownEpochs = 3, WarmupEpochs = 0, MinEpochs = 0, Patience = 100, LearningRate = 2e-3,
        });
        Assert.Equal(6, result.EpochsRun);
        var rates = result.History.Select(h => h.LearningRate).ToArray();
        Assert.All(rates[..3], r => Assert.Equal(2e-3, r, 12));
        Assert.True(rates[3] < 2e-3 && rates[4] < rates[3] && rates[5] < rates[4], string.Join(", ", rates));
        Assert.True(rates[5] < 0.1 * 2e-3, $"the last epoch ends at {rates[5]:G3}");
        Assert.Equal(TimeSpan.Zero, result.History[^1].Eta);
        Assert.False(result.History[3].EtaIsLowerBound); // inside the cool-down the end is known
    }

    [Fact]
    public void The_cosine_schedule_still_decays_from_the_first_epoch_instead_of_cooling_down_at_the_end()
    {
        var (model, split) = Tiny();
        using var _ = model;
        var result = SasRecTrainer.Train(model, split, new SasRecTrainingOptions
        {
            BatchSize = 64, MaxEpochs = 4, MinEpochs = 4, CosineDecay = true, WarmupEpochs = 0, LearningRate = 2e-3,
        });
        var rates = result.History.Select(h => h.LearningRate).ToArray();
        Assert.Equal(4, rates.Length);
        Assert.True(rates[0] < 2e-3 && rates[1] < rates[0] && rates[2] < rates[1] && rates[3] < rates[2], string.Join(", ", rates));
        Assert.True(rates[3] < 0.1 * 2e-3, $"the last epoch ends at {rates[3]:G3}");
    }

    [Fact]
    public void When_validation_stops_improving_the_cool_down_starts_and_training_ends_with_it()
    {
        // A rate too small to move float32 weights: validation NDCG is the same every epoch, so epoch 1 stays the best.
        var options = new SasRecTrainingOptions { BatchSize = 64, MaxEpochs = 30, CooldownEpochs = 3, WarmupEpochs = 0, MinEpochs = 2, Patience = 1, LearningRate = 1e-12 };
        var (model, split) = Tiny();
        using (model)
        {
            var result = SasRecTrainer.Train(model, split, options);
            Assert.Equal(1, result.BestEpoch);
            Assert.Equal(5, result.EpochsRun); // patience ran out after epoch 2, then 3 epochs of cool-down
            Assert.True(result.History[^1].LearningRate < result.History[2].LearningRate);
        }
        var (plain, plainSplit) = Tiny();
        using (plain)
            Assert.Equal(2, SasRecTrainer.Train(plain, plainSplit, options with { CooldownEpochs = 0 }).EpochsRun); // the stopping rule alone
    }
}
