using PopSteer.Streaming.Sequences;

namespace PopSteer.Scorer;

/// <summary>
/// The last resort for a batch that has failed <c>Scoring:MaxBatchAttempts</c> times for a reason that is not
/// transient: each user is read, scored and published alone, so one malformed stored sequence, one history the
/// model chokes on or one message Kafka refuses costs only that user, who is handed back to be dead-lettered with
/// the reason. A transient failure (Redis or Kafka down) still aborts the whole attempt, so an outage never sets
/// a user aside.
/// </summary>
public sealed class PoisonBatchIsolator(SequenceStore sequences, BatchScorer scorer)
{
    /// <param name="publish">Produces one recommendation and completes when its delivery report is in.</param>
    /// <returns>The users published and the users that failed alone, with why.</returns>
    public (List<ScoredUser> Published, List<(UserSignal User, string Reason)> Failed) ScoreOneByOne(
        ServingModel model,
        ActiveSteering steering,
        IReadOnlyList<UserSignal> users,
        string batchId,
        Func<ScoredUser, Task> publish)
    {
        var published = new List<ScoredUser>(users.Count);
        var failed = new List<(UserSignal, string)>();
        foreach (var user in users)
        {
            try
            {
                var stored = sequences.ReadManyAsync([user.UserId]).GetAwaiter().GetResult();
                foreach (var s in scorer.Score(model, steering, [user], stored, batchId, DateTimeOffset.UtcNow))
                {
                    publish(s).GetAwaiter().GetResult();
                    published.Add(s);
                }
            }
            catch (Exception e) when (!BatchFailurePolicy.IsTransient(e) && e is not OutOfMemoryException)
            {
                failed.Add((user, BatchFailurePolicy.Describe(e)));
            }
        }
        return (published, failed);
    }
}
