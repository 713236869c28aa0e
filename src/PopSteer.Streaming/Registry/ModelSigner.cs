using System.Security.Cryptography;

namespace PopSteer.Streaming.Registry;

/// <summary>
/// Signs manifests with an ECDSA P-256 private key (System.Security.Cryptography; .NET's BCL has no Ed25519).
/// Lives only where models are published: <see cref="ModelRegistry.PublishAsync"/> uses it when
/// <c>Registry:SigningKeyFile</c> is set, so the CLI's <c>publish</c> and the Retrainer sign without code of their own.
/// </summary>
public sealed class ModelSigner : IDisposable
{
    private readonly ECDsa _key;

    private ModelSigner(ECDsa key)
    {
        _key = key;
        KeyId = ModelSignature.KeyIdOf(key);
    }

    public string KeyId { get; }

    /// <summary>Reads a PEM private key ("PRIVATE KEY" PKCS#8 or "EC PRIVATE KEY" SEC1) on the P-256 curve.</summary>
    /// <exception cref="ModelSignatureException">Missing, unreadable, or not a P-256 private key; the message names the file.</exception>
    public static ModelSigner FromPemFile(string path)
    {
        var key = KeyFiles.ReadEcdsa(path, privateKey: true).Single();
        return new ModelSigner(key);
    }

    public static ModelSigner FromKey(ECDsa key) => new(key);

    /// <summary>The signature of a manifest, given the manifest's bytes exactly as stored.</summary>
    public ModelSignature Sign(ReadOnlySpan<byte> manifestBytes)
    {
        var sha = ModelVersionId.Sha256Hex(manifestBytes);
        var signature = _key.SignData(ModelSignature.SignedBytes(sha), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return new ModelSignature(ModelSignature.EcdsaP256Sha256, KeyId, sha, signature);
    }

    /// <summary>Writes a fresh key pair as PEM (private: PKCS#8, owner-only permissions; public: SubjectPublicKeyInfo).</summary>
    public static string GenerateKeyPair(string privateKeyPath, string publicKeyPath)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        File.WriteAllText(privateKeyPath, key.ExportPkcs8PrivateKeyPem());
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(privateKeyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(publicKeyPath, key.ExportSubjectPublicKeyInfoPem());
        return ModelSignature.KeyIdOf(key);
    }

    public void Dispose() => _key.Dispose();
}
