using Microsoft.Extensions.Options;
using PopSteer.Core.Scoring;
using PopSteer.Core.Testing;
using PopSteer.Scorer;
using PopSteer.Streaming.Sequences;

namespace PopSteer.Streaming.Tests.Scoring;

/// <summary>
/// One batch through <see cref="BatchScorer"/> with a tiny real model: the served lists are the steered ranking, and
/// the shadow sample's plain SASRec lists, ranked in the same model call, are exactly what SASRec alone would list.
/// </summary>
public sealed class BatchScorerTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly string _directory = Directory.CreateTempSubdirectory("popsteer-batchscorer-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData(1, false)]
    [InlineData(3, true)]
    [InlineData(0, false)]
    public void Shadow_users_get_plain_SasRec_lists_from_the_same_pass_and_everyone_gets_the_steered_list(int every, bool excludeSeen)
    {
        TinyModelFactory.Create(_directory, items: 30, seed: 7);
        using var serving = new ServingModel("tiny", PopSteerModel.Load(_directory));
        var model = serving.Model;
        var random = new Random(3);
        var users = Enumerable.Range(0, 40).Select(i => new UserSignal($"user-{i}", T0, T0)).ToList();
        var sequences = users.Select(u => new UserSequence(u.UserId, Enumerable.Range(0, 1 + random.Next(12))
            .Select(j => new SequenceEntry(model.Items.ToExternal(1 + random.Next(30)), T0.AddSeconds(j))).ToArray())).ToList();
        var options = new ScoringOptions { ShadowSampleEvery = every, ExcludeSeen = excludeSeen, TopK = 7 };
        var steering = new ActiveSteering(1.0, 4, model.PlanFor(1.0, 4));

        var scored = new BatchScorer(Options.Create(options)).Score(serving, steering, users, sequences, "b1", T0);

        Assert.Equal(users.Count, scored.Count);
        int sampled = 0;
        for (int u = 0; u < users.Count; u++)
        {
            var history = BatchScorer.ToHistory(sequences[u], model.Items, model.MaxLength);
            var steered = model.Recommend([history], ScoringMethod.PopSteer, steering.Plan, 7, excludeSeen)[0].Select(r => r.Item);
            Assert.Equal(steered, scored[u].InternalItems);
            if (!ShadowSample.Includes(users[u].UserId, every))
            {
                Assert.Null(scored[u].UnsteeredItems);
                continue;
            }
            sampled++;
            var plain = model.Recommend([history], ScoringMethod.SasRec, null, 7, excludeSeen)[0].Select(r => r.Item);
            Assert.Equal(plain, scored[u].UnsteeredItems);
        }
        Assert.Equal(users.Count(u => ShadowSample.Includes(u.UserId, every)), sampled);
        if (every == 1) Assert.Equal(users.Count, sampled);
        if (every == 3) Assert.InRange(sampled, 1, users.Count - 1); // a real sample: some in, some out
    }
}
