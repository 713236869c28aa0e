using Microsoft.Extensions.Options;

namespace PopSteer.Streaming.Registry;

/// <summary>Loads the configured key files at start-up, so a missing or unreadable key stops the service with the file named.</summary>
internal sealed class RegistryOptionsValidator : IValidateOptions<RegistryOptions>
{
    public ValidateOptionsResult Validate(string? name, RegistryOptions options)
    {
        var failures = new List<string>();
        if (!string.IsNullOrWhiteSpace(options.SigningKeyFile))
        {
            try { ModelSigner.FromPemFile(options.SigningKeyFile).Dispose(); }
            catch (ModelSignatureException e) { failures.Add($"Registry:SigningKeyFile: {e.Message}"); }
        }
        if (!string.IsNullOrWhiteSpace(options.PublicKeyFile))
        {
            try { ModelSignatureVerifier.FromPemFile(options.PublicKeyFile).Dispose(); }
            catch (ModelSignatureException e) { failures.Add($"Registry:PublicKeyFile: {e.Message}"); }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
