using PopSteer.Core.Data;
using PopSteer.Core.Model;
using static TorchSharp.torch;

namespace PopSteer.Core.Training;

/// <summary>
/// Warm-starts SASRec on new data whose catalogue has grown: a model with <c>added</c> more item rows is built, every
/// weight of the serving model is copied into it (item rows 0..n included), the new rows keep SASRec's own init
/// (N(0, 0.02), <see cref="SasRec.ResetParameters"/>), and the same training loop as `fit`
/// (<see cref="SasRecTrainer.Train"/>: full softmax, Adam, early stop on validation NDCG@10) fine-tunes it, bounded
/// by an epoch cap and a wall-clock budget (cancelling keeps the best epoch, as in `fit`).
/// <para>
/// Cost: the item table and its Adam moments grow by 4 x d x 4 bytes per item (1 MiB per 1,000 items at d = 64), and
/// the output layer's logits and their gradient by 2 x BatchSize x 4 bytes per item (16 MiB per 1,000 items at 2,048 targets);
/// an epoch's time grows with targets x items x d through that layer.
/// </para>
/// </summary>
public static class IncrementalSasRecTrainer
{
    /// <summary>A copy of <paramref name="serving"/> with <paramref name="added"/> new item rows at ids n+1..n+added.</summary>
    public static SasRec Grow(SasRec serving, int added, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(added);
        random.manual_seed(seed);
        var grown = new SasRec(serving.Config with { ItemCount = serving.Config.ItemCount + added });
        using var _ = no_grad();
        var source = serving.state_dict();
        foreach (var (name, target) in grown.state_dict())
        {
            var from = source[name];
            if (from.shape.SequenceEqual(target.shape)) target.copy_(from);
            else if (name.StartsWith("item_embedding", StringComparison.Ordinal))
                target.narrow(0, 0, from.shape[0]).copy_(from);
            else throw new InvalidOperationException($"Parameter '{name}' changed shape from [{string.Join(", ", from.shape)}] to [{string.Join(", ", target.shape)}]: only the item table may grow.");
        }
        return grown;
    }

    /// <summary>
    /// Fine-tunes <paramref name="model"/> in place on <paramref name="split"/> (in the grown vocabulary) with the
    /// trainer's loop, for at most <paramref name="options"/>.MaxEpochs and <paramref name="budget"/> of wall-clock time.
    /// </summary>
    public static TrainingResult FineTune(SasRec model, LeaveOneOutSplit split, SasRecTrainingOptions options, TimeSpan budget,
        Device? device = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(budget);
        var result = SasRecTrainer.Train(model, split, options, device, progress, cancellationToken: bounded.Token);
        cancellationToken.ThrowIfCancellationRequested();
        return result;
    }
}
