using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace PopSteer.Streaming.Configuration;

/// <summary>Checks what data annotations cannot: nested topic names and the raw client keys.</summary>
internal sealed partial class KafkaOptionsValidator : IValidateOptions<KafkaOptions>
{
    // Kafka's own rule for topic names (legal characters, at most 249 of them).
    [GeneratedRegex("^[a-zA-Z0-9._-]{1,249}$")]
    private static partial Regex TopicName();

    public ValidateOptionsResult Validate(string? name, KafkaOptions options)
    {
        var failures = new List<string>();
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in options.Topics.All())
        {
            if (string.IsNullOrWhiteSpace(value) || !TopicName().IsMatch(value))
                failures.Add($"{key} = '{value}' is not a valid Kafka topic name (1-249 of [a-zA-Z0-9._-]).");
            else if (!seen.TryAdd(value, key))
                failures.Add($"{key} = '{value}' is the same topic as {seen[value]}; every role needs its own topic.");
        }

        foreach (var (section, keys) in new[] { ("Client", options.Client), ("Producer", options.Producer), ("Consumer", options.Consumer) })
            foreach (var (key, value) in keys)
                if (string.IsNullOrWhiteSpace(key) || value is null)
                    failures.Add($"Kafka:{section}:{key} has no value; remove it or give it one.");

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
