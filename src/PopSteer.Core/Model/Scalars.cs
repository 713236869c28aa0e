using TorchSharp;

namespace PopSteer.Core.Model;

/// <summary>
/// Scalars used on every batch, created once and kept reachable. A Scalar made by implicit conversion inside a call
/// such as <c>t.ne(0)</c> is unreachable while the native call still runs, so a garbage collection can finalize
/// (free) it mid-call: we saw exactly that ("toLong ... Expected false to be true" in ne_Scalar) in a long run whose
/// analyzer allocated large managed arrays. Static instances are never finalized.
/// </summary>
internal static class Scalars
{
    public static readonly Scalar Zero = 0L.ToScalar();
    public static readonly Scalar One = 1L.ToScalar();
    public static readonly Scalar True = true.ToScalar();
    public static readonly Scalar NegativeInfinity = float.NegativeInfinity.ToScalar();
    /// <summary>RecBole's additive attention mask value: exp(-10000) underflows to exactly 0 in float32 softmax.</summary>
    public static readonly Scalar Blocked = (-10000f).ToScalar();
}
