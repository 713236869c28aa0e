using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace PopSteer.Streaming.Configuration;

/// <summary>Marker options whose start-up validation is the unknown-key check over every configuration source.</summary>
public sealed class ConfigurationKeyCheck;

/// <summary>
/// At start-up, a key the service's sections do not have stops the service with the key named: a typo such as
/// <c>Steering:Alpah</c> must not leave the default in force without a word. (A reload is checked by the file itself.)
/// </summary>
internal sealed class UnknownKeysValidator(IConfiguration configuration, PopSteerConfigurationSchema schema) : IValidateOptions<ConfigurationKeyCheck>
{
    public ValidateOptionsResult Validate(string? name, ConfigurationKeyCheck options)
    {
        var unknown = schema.UnknownKeys(configuration.AsEnumerable().Select(kv => kv.Key));
        return unknown.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(unknown);
    }
}
