using System.ComponentModel.DataAnnotations;

namespace PopSteer.Streaming.Configuration;

/// <summary>Section "Redis".</summary>
public sealed class RedisOptions
{
    public const string SectionName = "Redis";

    /// <summary>A StackExchange.Redis configuration string ("host:port,password=...,ssl=true").</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Redis:Configuration is required (a StackExchange.Redis connection string, e.g. localhost:6379).")]
    public string Configuration { get; set; } = "";

    /// <summary>Prefix of every key; lets several deployments share one Redis.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Redis:KeyPrefix must not be empty.")]
    [RegularExpression("^[^{}\\s]+$", ErrorMessage = "Redis:KeyPrefix must not contain '{{', '}}' or spaces (they would break the per-user hash tag).")]
    public string KeyPrefix { get; set; } = "popsteer";
}
