using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace PopSteer.Streaming.Configuration;

/// <summary>Parses the connection string at start-up so a typo stops the service with the key named.</summary>
internal sealed class RedisOptionsValidator : IValidateOptions<RedisOptions>
{
    public ValidateOptionsResult Validate(string? name, RedisOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Configuration))
            return ValidateOptionsResult.Skip; // the data annotation reports it
        try
        {
            var parsed = ConfigurationOptions.Parse(options.Configuration);
            return parsed.EndPoints.Count == 0
                ? ValidateOptionsResult.Fail($"Redis:Configuration '{options.Configuration}' names no endpoint (host:port).")
                : ValidateOptionsResult.Success;
        }
        catch (ArgumentException e)
        {
            return ValidateOptionsResult.Fail($"Redis:Configuration '{options.Configuration}' is not a valid StackExchange.Redis configuration: {e.Message}");
        }
    }
}
