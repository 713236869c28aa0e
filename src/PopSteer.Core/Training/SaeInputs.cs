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
    /// <summary>
    /// [training samples, d] on the CPU, in window order. A window that scores only its last position (every window after
    /// a user's first at stride 1) needs the last block at that position alone: those go through
    /// <see cref="SasRec.UserVectors"/> (the same vectors, about 40% fewer FLOPs), the rest through the full forward.
    /// </summary>
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
            var full = new List<TrainingWindows.Window>();
            var last = new List<TrainingWindows.Window>();
            var fullRows = new List<long>();   // where each vector goes in this batch's output, window order
            var lastRows = new List<long>();
            long row = 0;
            for (int i = 0; i < count; i++)
            {
                var w = windows.Items[start + i];
                if (w.ScoredTargets == 1) { last.Add(w); lastRows.Add(row++); }
                else { full.Add(w); for (int p = w.FirstScored; p < w.Length; p++) fullRows.Add(row++); }
            }
            var output = empty(row, model.Config.Dim, device: device);
            if (full.Count > 0)
            {
                var (inputs, scored) = Pack(full, trainSequences);
                var hidden = model.forward(tensor(inputs, [full.Count, inputs.Length / full.Count], device: device)).view(-1, model.Config.Dim);
                output.index_copy_(0, tensor(fullRows.ToArray(), device: device), hidden.index_select(0, tensor(scored, device: device)));
            }
            if (last.Count > 0)
            {
                var (inputs, _) = Pack(last, trainSequences);
                var lengths = tensor(last.Select(w => (long)w.Length).ToArray(), device: device);
                var vectors = model.UserVectors(tensor(inputs, [last.Count, inputs.Length / last.Count], device: device), lengths);
                output.index_copy_(0, tensor(lastRows.ToArray(), device: device), vectors);
            }
            parts.Add(output.cpu().MoveToOuterDisposeScope());
        }
        return cat(parts, 0).MoveToOuterDisposeScope();
    }

    // Left-aligned, right-padded item ids of the windows ([windows x widest] row-major) and the flat positions they score.
    private static (long[] Inputs, long[] Scored) Pack(List<TrainingWindows.Window> batch, IReadOnlyList<int[]> trainSequences)
    {
        int width = batch.Max(w => w.Length);
        var inputs = new long[batch.Count * width];
        var scored = new List<long>();
        for (int b = 0; b < batch.Count; b++)
        {
            var w = batch[b];
            var s = trainSequences[w.User];
            for (int p = 0; p < w.Length; p++)
            {
                inputs[b * width + p] = s[w.Start + p];
                if (p >= w.FirstScored) scored.Add(b * width + p);
            }
        }
        return (inputs, scored.ToArray());
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
