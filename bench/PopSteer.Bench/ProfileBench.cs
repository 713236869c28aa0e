using PopSteer.BenchShared;
using PopSteer.Core.Scoring;
using static TorchSharp.torch;

namespace PopSteer.Bench;

/// <summary>Where a steered scoring call's CPU time goes, stage by stage (one torch thread: CPU seconds of this thread).</summary>
internal static class ProfileBench
{
    public static int Run(Args a)
    {
        int length = a.Int("length", 50), batch = a.Int("batch", 1), calls = a.Int("calls", 300);
        using var model = PopSteerModel.Load(a.Get("model") ?? ScoringBench.BuildRandomModel(a.Int("items", 3416)));
        var plan = model.PlanFor(1.5, model.SaeWidth);
        var rng = new Random(1);
        var histories = Enumerable.Range(0, batch).Select(_ => Enumerable.Range(0, length).Select(_ => rng.Next(1, model.Items.Count + 1)).ToArray()).ToArray();
        var stages = new double[4];
        for (int c = -20; c < calls; c++)
        {
            using var scope = NewDisposeScope();
            double t0 = CpuClock.ThreadSeconds();
            var x = model.UserVectors(histories);
            double t1 = CpuClock.ThreadSeconds();
            var scores = model.ScoresFromUserVectors(x, ScoringMethod.PopSteer, plan);
            double t2 = CpuClock.ThreadSeconds();
            PopSteerModel.TopK(scores, histories, 10, excludeSeen: false);
            double t3 = CpuClock.ThreadSeconds();
            model.Recommend(histories, ScoringMethod.PopSteer, plan, 10);
            double t4 = CpuClock.ThreadSeconds();
            if (c < 0) continue; // warm-up
            stages[0] += t1 - t0; stages[1] += t2 - t1; stages[2] += t3 - t2; stages[3] += t4 - t3;
        }
        string[] names = ["SASRec user vectors (incl. history packing)", "SAE steer + item scores", "top-K + copy out", "whole Recommend call"];
        Console.WriteLine($"batch {batch}, {calls} calls, torch threads {get_num_threads()}: CPU microseconds per call");
        for (int i = 0; i < 4; i++) Console.WriteLine($"  {names[i],-45} {stages[i] / calls * 1e6,9:F0} us");
        return 0;
    }
}

/// <summary>The floor under every small op: CPU time of one tiny native op, with and without a dispose scope per op.</summary>
internal static class OpOverheadBench
{
    public static int Run(Args a)
    {
        int n = a.Int("ops", 20000);
        using var x = randn(1, 64);
        using var w = randn(4096, 64);
        using var e = randn(3417, 64);
        void Time(string name, Action op)
        {
            for (int i = 0; i < 200; i++) op();
            double t0 = CpuClock.ThreadSeconds();
            for (int i = 0; i < n; i++) op();
            Console.WriteLine($"  {name,-40} {(CpuClock.ThreadSeconds() - t0) / n * 1e6,8:F1} us CPU");
        }
        Console.WriteLine($"per op, torch threads {get_num_threads()}:");
        Time("x.add(x), disposed", () => x.add(x).Dispose());
        Time("same in its own dispose scope", () => { using var s = NewDisposeScope(); x.add(x); });
        Time("linear [1,64] x [4096,64]^T", () => nn.functional.linear(x, w).Dispose());
        Time("matmul [1,64] x [64,3417]", () => x.matmul(e.t()).Dispose());
        using var z = randn(1, 4096);
        Time("topk 32 of 4096", () => { var (v, i) = z.topk(32, dim: 1); v.Dispose(); i.Dispose(); });
        using var zb = randn(64, 4096);
        var buffer = new float[64 * 4096];
        Time("topk 32 of [64, 4096]", () => { var (v, i) = zb.topk(32, dim: 1); v.Dispose(); i.Dispose(); });
        Time("data<float>().ToArray() of [64, 4096]", () => zb.data<float>().ToArray());
        Time("data<float>().CopyTo(span) of [64, 4096]", () => zb.data<float>().CopyTo(buffer.AsSpan()));
        Time("bytes -> float span copy of [64, 4096]", () => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(zb.bytes).CopyTo(buffer));
        Time("managed top-k 32 of [64, 4096] (SAE training)", () => PopSteer.Core.Training.TopKSelection.Indices(zb, 32).Dispose());
        int[] topIndices = new int[32]; float[] topValues = new float[32];
        Time("SelectTop 32 of one row of 4096", () => PopSteer.Core.Scoring.DenseKernels.SelectTop(buffer.AsSpan(0, 4096), 32, topIndices, topValues));
        using var h = randn(1, 50, 64);
        using var wqkv = randn(192, 64);
        using var w1 = randn(256, 64);
        using var q = randn(1, 2, 50, 32);
        using var mask = zeros(1, 1, 50, 50);
        using var lnw = ones(64);
        using var lnb = zeros(64);
        Time("linear [1,50,64] -> 192", () => nn.functional.linear(h, wqkv).Dispose());
        Time("linear [1,50,64] -> 256", () => nn.functional.linear(h, w1).Dispose());
        Time("sdpa [1,2,50,32] causal", () => nn.functional.scaled_dot_product_attention(q, q, q, null, 0, true).Dispose());
        Time("sdpa [1,2,50,32] float mask", () => nn.functional.scaled_dot_product_attention(q, q, q, mask, 0, false).Dispose());
        Time("manual attention [1,2,50,32]", () => { using var s = NewDisposeScope(); q.matmul(q.transpose(-1, -2)).div(5.6).add(mask).softmax(-1).matmul(q); });
        Time("layer_norm [1,50,64]", () => nn.functional.layer_norm(h, [64], lnw, lnb, 1e-12).Dispose());
        using var g = randn(1, 50, 256);
        Time("gelu [1,50,256]", () => nn.functional.gelu(g).Dispose());
        var b256 = randn(256, 50, 64);
        var q256 = randn(256, 2, 50, 32);
        var m256 = zeros(256, 1, 50, 50);
        Time("linear [256,50,64] -> 192", () => nn.functional.linear(b256, wqkv).Dispose());
        Time("sdpa [256,2,50,32] causal", () => nn.functional.scaled_dot_product_attention(q256, q256, q256, null, 0, true).Dispose());
        Time("sdpa [256,2,50,32] float mask", () => nn.functional.scaled_dot_product_attention(q256, q256, q256, m256, 0, false).Dispose());
        Time("manual attention [256,2,50,32]", () => { using var s = NewDisposeScope(); q256.matmul(q256.transpose(-1, -2)).div(5.6).add(m256).softmax(-1).matmul(q256); });
        Time("gelu [256,50,256]", () => nn.functional.gelu(randn(256, 50, 256)).Dispose());
        return 0;
    }
}
