using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PopSteer.Core.Model;

/// <summary>
/// SASRec as in RecBole (METHOD.md section 2). Sequences are left-aligned and right-padded with 0, so position p of a
/// window holds the same item and the same position embedding as it would in the prefix ending there: with the
/// causal mask, the output at every position IS that prefix's user representation. Training uses this to learn
/// every prefix of a window in one forward.
/// </summary>
public sealed class SasRec : Module<Tensor, Tensor>
{
    private readonly Embedding item_embedding;
    private readonly Embedding position_embedding;
    private readonly LayerNorm layer_norm;
    private readonly Dropout dropout;
    private readonly ModuleList<TransformerBlock> blocks;

    public SasRec(SasRecConfig config) : base(nameof(SasRec))
    {
        config.Validate();
        Config = config;
        item_embedding = Embedding(config.ItemCount + 1, config.Dim, padding_idx: 0);
        position_embedding = Embedding(config.MaxLength, config.Dim);
        layer_norm = LayerNorm(config.Dim, config.LayerNormEps);
        dropout = Dropout(config.Dropout);
        blocks = new ModuleList<TransformerBlock>(Enumerable.Range(0, config.Blocks).Select(_ => new TransformerBlock(config)).ToArray());
        RegisterComponents();
        ResetParameters();
    }

    public SasRecConfig Config { get; }

    /// <summary>The tied item table e: row i is item i (row 0 padding). Scores are x_u . e_i.</summary>
    public Tensor ItemEmbeddings => item_embedding.weight!;

    /// <summary>RecBole's init: N(0, 0.02) for linear and embedding weights, zero biases, unit LayerNorm.</summary>
    public void ResetParameters()
    {
        using var _ = no_grad();
        foreach (var (name, p) in named_parameters())
        {
            if (name.Contains("layer_norm"))
            {
                if (name.EndsWith("weight")) p.fill_(1f); else p.zero_();
            }
            else if (name.EndsWith("bias")) p.zero_();
            else init.normal_(p, 0, 0.02);
        }
        item_embedding.weight![0].zero_();
    }

    /// <summary>Hidden states for every position: [B, L] item ids (left-aligned, 0 = padding) -> [B, L, d].</summary>
    public override Tensor forward(Tensor itemSeq)
    {
        using var scope = NewDisposeScope();
        long length = itemSeq.shape[1];
        if (length > Config.MaxLength)
            throw new ArgumentException($"Sequences of length {length} exceed the model's maximum {Config.MaxLength}.", nameof(itemSeq));
        var positions = arange(length, dtype: ScalarType.Int64, device: itemSeq.device).unsqueeze(0);
        var hidden = dropout.forward(layer_norm.forward(item_embedding.forward(itemSeq).add(position_embedding.forward(positions), Scalars.One)));
        var mask = AttentionMask(itemSeq);
        foreach (var block in blocks)
        {
            hidden = block.forward(hidden, mask);
        }
        return hidden.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// x_u: the output at the last real position of each row. <paramref name="lengths"/> are the real lengths (>= 1).
    /// Equal to gathering <see cref="forward"/> at that position, but the last block computes only that position
    /// (its keys and values still see every earlier one): about 40% fewer FLOPs per scored user.
    /// </summary>
    public Tensor UserVectors(Tensor itemSeq, Tensor lengths)
    {
        using var scope = NewDisposeScope();
        long b = itemSeq.shape[0], length = itemSeq.shape[1];
        if (length > Config.MaxLength)
            throw new ArgumentException($"Sequences of length {length} exceed the model's maximum {Config.MaxLength}.", nameof(itemSeq));
        var positions = arange(length, dtype: ScalarType.Int64, device: itemSeq.device).unsqueeze(0);
        var hidden = dropout.forward(layer_norm.forward(item_embedding.forward(itemSeq).add(position_embedding.forward(positions), Scalars.One)));
        var mask = AttentionMask(itemSeq);
        for (int i = 0; i < blocks.Count - 1; i++) hidden = blocks[i].forward(hidden, mask);
        var last = lengths.sub(Scalars.One).view(-1, 1, 1).expand(-1, 1, Config.Dim);
        var query = hidden.gather(1, last);
        // The last real position may attend to every real key (all are at or before it): the padding mask alone.
        var keyMask = where(itemSeq.ne(Scalars.Zero).view(b, 1, 1, length), zeros(1, device: itemSeq.device), full(1, Scalars.Blocked, device: itemSeq.device));
        return blocks[blocks.Count - 1].ForwardAt(query, hidden, keyMask).squeeze(1).MoveToOuterDisposeScope();
    }

    /// <summary>Causal AND key-not-padding, as an additive [B, 1, L, L] mask.</summary>
    private static Tensor AttentionMask(Tensor itemSeq)
    {
        long length = itemSeq.shape[1];
        using var causal = ones(length, length, dtype: ScalarType.Bool, device: itemSeq.device).tril();
        using var keys = itemSeq.ne(Scalars.Zero).view(itemSeq.shape[0], 1, 1, length);
        using var allowed = keys.logical_and(causal);
        using var zero = zeros(1, dtype: ScalarType.Float32, device: itemSeq.device);
        using var blocked = full(1, Scalars.Blocked, dtype: ScalarType.Float32, device: itemSeq.device);
        return where(allowed, zero, blocked);
    }
}
