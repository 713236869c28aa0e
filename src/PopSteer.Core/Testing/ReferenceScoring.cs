using PopSteer.Core.Model;
using PopSteer.Core.Scoring;
using static TorchSharp.torch;

namespace PopSteer.Core.Testing;

/// <summary>
/// The scoring maths written out plainly from the modules' parameters, op by op, as RecBole states it: every
/// position of every block computed, separate Q, K and V matmuls, softmax(QK^T / sqrt(d_h) + mask) V with the
/// additive -10000 mask, the SAE encode, TopK, ReLU and dense decode, and the full item-score matmul. No fused
/// kernel, no cached mask, no shortcut of the last block. Tests hold the fast path to the same rankings as this.
/// </summary>
public static class ReferenceScoring
{
    /// <summary>SASRec's x_u per history (the last real position of the full forward), [B, d].</summary>
    public static Tensor UserVectors(SasRec model, IReadOnlyList<int[]> histories)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var c = model.Config;
        var p = model.named_parameters().ToDictionary(kv => kv.name, kv => (Tensor)kv.parameter);
        var (items, lengths) = HistoryBatch.Create(histories, c.MaxLength, c.ItemCount, CPU);
        long b = items.shape[0], l = items.shape[1];
        int hd = c.Dim / c.Heads;
        var positions = arange(l, dtype: ScalarType.Int64).unsqueeze(0);
        var hidden = Norm(p["item_embedding.weight"].index_select(0, items.reshape(-1)).view(b, l, c.Dim)
            .add(p["position_embedding.weight"].index_select(0, positions.reshape(-1)).view(1, l, c.Dim)), p, "layer_norm", c);
        var allowed = items.ne(0L).view(b, 1, 1, l).logical_and(ones(l, l, dtype: ScalarType.Bool).tril());
        var mask = where(allowed, zeros(1), full(1, -10000f));
        for (int blk = 0; blk < c.Blocks; blk++)
        {
            string a = $"blocks.{blk}.attention.", f = $"blocks.{blk}.feed_forward.";
            Tensor Heads(string name) => Linear(hidden, p, a + name).view(b, l, c.Heads, hd).permute(0, 2, 1, 3);
            var scores = Heads("query").matmul(Heads("key").transpose(-1, -2)).div(Math.Sqrt(hd)).add(mask);
            var context = scores.softmax(-1).matmul(Heads("value")).permute(0, 2, 1, 3).reshape(b, l, c.Dim);
            var attended = Norm(Linear(context, p, a + "dense").add(hidden), p, a + "layer_norm", c);
            var inner = nn.functional.gelu(Linear(attended, p, f + "dense_1"));
            hidden = Norm(Linear(inner, p, f + "dense_2").add(attended), p, f + "layer_norm", c);
        }
        var last = lengths.sub(1L).view(-1, 1, 1).expand(-1, 1, c.Dim);
        return hidden.gather(1, last).squeeze(1).MoveToOuterDisposeScope();
    }

    /// <summary>Steered (or, with a null shift, unsteered) SAE reconstruction of x: z = W_enc (x - b_dec) + b_enc, z += shift, a = ReLU(TopK(z)), x_hat = a W_dec + b_dec.</summary>
    public static Tensor Reconstruct(TopKSae sae, Tensor x, float[]? shift)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var p = sae.named_parameters().ToDictionary(kv => kv.name, kv => (Tensor)kv.parameter);
        var z = x.sub(p["decoder_bias"]).matmul(p["encoder_weight"].t()).add(p["encoder_bias"]);
        if (shift is not null) z = z.add(tensor(shift));
        var (values, indices) = z.topk(sae.Config.K, dim: 1);
        var dense = zeros_like(z).scatter_(1, indices, values.relu());
        return dense.matmul(p["decoder_weight"]).add(p["decoder_bias"]).MoveToOuterDisposeScope();
    }

    /// <summary>Top-k item ids per history from x . e_i over every real item (padding never), best first.</summary>
    public static int[][] TopItems(SasRec model, Tensor userVectors, int k)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var scores = userVectors.matmul(model.ItemEmbeddings.t()).narrow(1, 1, model.Config.ItemCount);
        var (_, indices) = scores.topk(k, dim: 1);
        var ix = indices.data<long>().ToArray();
        return Enumerable.Range(0, (int)scores.shape[0]).Select(u => ix.Skip(u * k).Take(k).Select(i => (int)i + 1).ToArray()).ToArray();
    }

    private static Tensor Linear(Tensor x, Dictionary<string, Tensor> p, string name) =>
        x.matmul(p[name + ".weight"].t()).add(p[name + ".bias"]);

    private static Tensor Norm(Tensor x, Dictionary<string, Tensor> p, string name, SasRecConfig c) =>
        nn.functional.layer_norm(x, [c.Dim], p[name + ".weight"], p[name + ".bias"], c.LayerNormEps);
}
