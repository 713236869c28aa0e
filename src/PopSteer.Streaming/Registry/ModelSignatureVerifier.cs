using System.Security.Cryptography;

namespace PopSteer.Streaming.Registry;

/// <summary>
/// Checks manifest signatures against the trusted public keys (<c>Registry:PublicKeyFile</c>, a mounted Secret).
/// Every reader of the registry that has one refuses an unsigned or mis-signed version.
/// </summary>
public sealed class ModelSignatureVerifier : IDisposable
{
    private readonly Dictionary<string, ECDsa> _keys;

    private ModelSignatureVerifier(IEnumerable<ECDsa> keys) =>
        _keys = keys.ToDictionary(ModelSignature.KeyIdOf, StringComparer.Ordinal);

    /// <summary>The ids of the trusted keys.</summary>
    public IReadOnlyCollection<string> KeyIds => _keys.Keys;

    /// <summary>Reads every "PUBLIC KEY" block of a PEM file (several = a rotation in progress).</summary>
    /// <exception cref="ModelSignatureException">Missing, unreadable, or holds no P-256 public key; the message names the file.</exception>
    public static ModelSignatureVerifier FromPemFile(string path) => new(KeyFiles.ReadEcdsa(path, privateKey: false));

    public static ModelSignatureVerifier FromKeys(params ECDsa[] keys) => new(keys);

    /// <summary>Null when <paramref name="signatureFile"/> is a valid signature of these manifest bytes by a trusted key, else why not.</summary>
    public string? Check(ReadOnlySpan<byte> manifestBytes, ReadOnlySpan<byte> signatureFile)
    {
        ModelSignature signature;
        try
        {
            signature = ModelSignature.Parse(signatureFile);
        }
        catch (ModelSignatureException e)
        {
            return e.Message;
        }
        if (signature.Algorithm != ModelSignature.EcdsaP256Sha256)
            return $"{ModelSignature.FileName} uses algorithm '{signature.Algorithm}'; only {ModelSignature.EcdsaP256Sha256} is accepted";
        var sha = ModelVersionId.Sha256Hex(manifestBytes);
        if (!string.Equals(signature.ManifestSha256, sha, StringComparison.Ordinal))
            return $"{ModelSignature.FileName} signs manifest SHA-256 {signature.ManifestSha256}, but the manifest hashes to {sha}";
        if (!_keys.TryGetValue(signature.KeyId, out var key))
            return $"{ModelSignature.FileName} is signed by key {signature.KeyId}, which is not trusted (trusted: {string.Join(", ", _keys.Keys)})";
        return key.VerifyData(ModelSignature.SignedBytes(sha), signature.Signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation)
            ? null
            : $"the signature in {ModelSignature.FileName} does not verify with key {signature.KeyId}: the manifest or the signature was forged or damaged";
    }

    public void Dispose()
    {
        foreach (var key in _keys.Values) key.Dispose();
    }
}
