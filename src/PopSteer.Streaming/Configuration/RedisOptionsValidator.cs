using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace PopSteer.Streaming.Configuration;

/// <summary>Parses the connection string at start-up so a typo stops the service with the key named.</summary>
internal sealed partial class RedisOptionsValidator : IValidateOptions<RedisOptions>
{
    public ValidateOptionsResult Validate(string? name, RedisOptions options)
    {
        var failures = new List<string>();
        if (options.WaitReplicas > 0 && options.WaitTimeout <= TimeSpan.Zero)
            failures.Add($"Redis:WaitTimeout must be positive when Redis:WaitReplicas is set (got {options.WaitTimeout}).");
        if (!string.IsNullOrWhiteSpace(options.Configuration)) // else the data annotation reports it
        {
            try
            {
                var parsed = ConfigurationOptions.Parse(options.Configuration);
                if (parsed.EndPoints.Count == 0)
                    failures.Add($"Redis:Configuration '{Redact(options.Configuration)}' names no endpoint (host:port).");
            }
            catch (ArgumentException e)
            {
                failures.Add($"Redis:Configuration '{Redact(options.Configuration)}' is not a valid StackExchange.Redis configuration: {Redact(e.Message)}");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>The connection string with every password value replaced: messages end up in logs and crash reports.</summary>
    public static string Redact(string text) => Secret().Replace(text, m => $"{m.Groups[1].Value}=***");

    [GeneratedRegex(@"\b(password|pwd|sslPassword|sentinelPassword)\s*=[^,]*", RegexOptions.IgnoreCase)]
    private static partial Regex Secret();
}
