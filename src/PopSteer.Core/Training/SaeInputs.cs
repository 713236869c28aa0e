using PopSteer.Core.Data;
using PopSteer.Core.Model;
using PopSteer.Core.Scoring;
using TorchSharp;
using static TorchSharp.torch;

namespace PopSteer.Core.Training;

/// <summary>
/// The SAE's training data: SASRec's user representation (frozen, eval mode: no dropout) of every training prefix,
/// read from the same windows SASRec trained on (one vector per scored position), and of every validation history.
/// </summary>
public static class SaeInputs
{
    /// <summary>[training samples, d] on the CPU.</summary>
    public static Tensor TrainingVectors(SasRec model, IReadOnlyList<int[]> trainSequences, int stride, Device device, int windowsPerBatch = 512)
    {
        var windows = TrainingWindows.Plan(trainSequences, model.Config.MaxLength, stride);
        model.to(device).eval();
        using var _ = no_grad();
        using var outer = NewDisposeScope();
        var parts = new List<Tensor>();
        for (int start = 0; start < windows.Items.Count; start += windowsPerBatch)
        {
            using var scope = NewDisposeScope();
            int count = Math.Min(windowsPerBatch, windows.Items.Count - start);
            int width = 0;
            for (int i = 0; i < count; i++) width = Math.Max(width, windows.Items[start + i].Length);
            var inputs = new long[count * width];
            var scored = new List<long>();
            for (int b = 0; b < count; b++)
            {
                var w = windows.Items[start + b];
                var s = trainSequences[w.User];
                for (int p = 0; p < w.Length; p++)
                {
                    inputs[b * width + p] = s[w.Start + p];
                    if (p >= w.FirstScored) scored.Add(b * width + p);
                }
            }
            var hidden = model.forward(tensor(inputs, [count, width], device: device)).view(-1, model.Config.Dim);
            var vectors = hidden.index_select(0, tensor(scored.ToArray(), device: device)).cpu();
            parts.Add(vectors.MoveToOuterDisposeScope());
        }
        return cat(parts, 0).MoveToOuterDisposeScope();
    }

    /// <summary>x_u of each case's history, [cases, d] on the CPU.</summary>
    public static Tensor CaseVectors(SasRec model, IReadOnlyList<EvaluationCase> cases, Device device, int batchSize = 1024)
    {
        model.to(device).eval();
        using var _ = no_grad();
        using var outer = NewDisposeScope();
        var parts = new List<Tensor>();
        for (int start = 0; start < cases.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var batch = cases.Skip(start).Take(batchSize).Select(c => c.History).ToArray();
            var (items, lengths) = HistoryBatch.Create(batch, model.Config.MaxLength, model.Config.ItemCount, device);
            parts.Add(model.UserVectors(items, lengths).cpu().MoveToOuterDisposeScope());
        }
        return (parts.Count == 0 ? zeros(0, model.Config.Dim) : cat(parts, 0)).MoveToOuterDisposeScope();
    }
}
