using System.Collections;
using System.Reflection;

namespace PopSteer.Streaming.Tests.Deploy;

/// <summary>
/// The configuration keys the services bind, read by reflection from their options classes: every class with a
/// <c>public const string SectionName</c> in the service assemblies is a section, its public settable properties are
/// its keys (nested classes are subsections, dictionaries take any subkey: Kafka:Client:security.protocol).
/// </summary>
internal static class OptionsCatalog
{
    private static readonly Assembly[] ServiceAssemblies =
    [
        typeof(PopSteer.Streaming.Configuration.KafkaOptions).Assembly,
        typeof(PopSteer.Ingest.IngestOptions).Assembly,
        typeof(PopSteer.Scorer.ScoringOptions).Assembly,
        typeof(PopSteer.Retrainer.RetrainerOptions).Assembly,
    ];

    /// <summary>Section name -> the options classes bound from it.</summary>
    public static readonly IReadOnlyDictionary<string, Type[]> Sections = ServiceAssemblies
        .SelectMany(a => a.GetTypes())
        .Select(t => (Type: t, Field: t.GetField("SectionName", BindingFlags.Public | BindingFlags.Static)))
        .Where(x => x.Field is { IsLiteral: true } && x.Field.FieldType == typeof(string))
        .GroupBy(x => (string)x.Field!.GetRawConstantValue()!, StringComparer.OrdinalIgnoreCase)
        .ToDictionary(g => g.Key, g => g.Select(x => x.Type).ToArray(), StringComparer.OrdinalIgnoreCase);

    /// <summary>Null when some service binds <paramref name="key"/> ("Section:Property[:Sub...]"), else why not.</summary>
    public static string? Unbound(string key)
    {
        var parts = key.Split(':');
        if (!Sections.TryGetValue(parts[0], out var types))
            return $"'{key}': no options class binds section '{parts[0]}' (known: {string.Join(", ", Sections.Keys.Order())})";
        var reasons = types.Select(t => Resolve(t, parts, 1)).ToArray();
        return reasons.Any(r => r is null) ? null : $"'{key}': {reasons[0]}";
    }

    private static string? Resolve(Type type, string[] parts, int index)
    {
        if (index == parts.Length) return null;
        if (IsDictionary(type)) return null;
        var property = type.GetProperty(parts[index], BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
        if (property is null || property.SetMethod is not { IsPublic: true } && !IsComplex(property.PropertyType))
            return $"{type.Name} has no settable property '{parts[index]}'";
        var next = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        if (index == parts.Length - 1) return null;
        if (IsDictionary(next)) return null;
        if (!IsComplex(next)) return $"{type.Name}.{property.Name} is a {next.Name}, it has no subkey '{parts[index + 1]}'";
        return Resolve(next, parts, index + 1);
    }

    private static bool IsDictionary(Type t) => typeof(IDictionary).IsAssignableFrom(t)
        || t.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>));

    private static bool IsComplex(Type t) => t.IsClass && t != typeof(string) && !typeof(IEnumerable).IsAssignableFrom(t);
}
