using System.Security.Cryptography;

namespace PopSteer.Streaming.Registry;

/// <summary>Reads ECDSA P-256 keys from PEM files, with errors that name the file.</summary>
internal static class KeyFiles
{
    // A PEM with a handful of keys is a few KB; anything far larger is not a key file.
    private const long MaxBytes = 1 << 20;

    public static IReadOnlyList<ECDsa> ReadEcdsa(string path, bool privateKey)
    {
        string text;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) throw new ModelSignatureException($"key file '{path}' not found.");
            if (info.Length > MaxBytes) throw new ModelSignatureException($"key file '{path}' is {info.Length} bytes: not a PEM key file.");
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelSignatureException($"key file '{path}' cannot be read ({e.Message}).", e);
        }

        var wanted = privateKey ? new[] { "PRIVATE KEY", "EC PRIVATE KEY" } : ["PUBLIC KEY"];
        var keys = new List<ECDsa>();
        var rest = text.AsSpan();
        while (PemEncoding.TryFind(rest, out var fields))
        {
            var label = rest[fields.Label].ToString();
            var block = rest[fields.Location].ToString();
            rest = rest[fields.Location.End..];
            if (!wanted.Contains(label)) continue;
            var key = ECDsa.Create();
            try
            {
                key.ImportFromPem(block);
                if (key.KeySize != 256 || key.ExportParameters(false).Curve.Oid?.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
                    throw new ModelSignatureException($"key file '{path}' holds a {key.KeySize}-bit key; model signing uses ECDSA P-256.");
                keys.Add(key);
            }
            catch (CryptographicException e)
            {
                key.Dispose();
                throw new ModelSignatureException($"key file '{path}' has a '{label}' block that is not an ECDSA key ({e.Message}).", e);
            }
            catch
            {
                key.Dispose();
                throw;
            }
        }
        if (keys.Count == 0)
            throw new ModelSignatureException($"key file '{path}' holds no PEM '{string.Join("' or '", wanted)}' block.");
        if (privateKey && keys.Count > 1)
            throw new ModelSignatureException($"key file '{path}' holds {keys.Count} private keys; a signing key file holds exactly one.");
        return keys;
    }
}
