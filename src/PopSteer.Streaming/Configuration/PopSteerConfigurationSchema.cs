using System.Collections;
using System.Reflection;

namespace PopSteer.Streaming.Configuration;

/// <summary>
/// The configuration sections a service binds and the options type each binds to, so that a key the binder would
/// silently ignore (<c>Steering:Alpah</c>, which leaves alpha at its default) is named instead. Keys are checked the
/// way the binder reads them: property names case-insensitively, any key under a dictionary, indices under a list.
/// Sections the service does not register (another service's, Logging) are not its business and are not checked.
/// </summary>
public sealed class PopSteerConfigurationSchema
{
    private readonly Dictionary<string, Type> _sections = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _gate = new();

    public void Register(string section, Type optionsType)
    {
        lock (_gate) _sections[section] = optionsType;
    }

    public IReadOnlyCollection<string> Sections
    {
        get { lock (_gate) return _sections.Keys.ToArray(); }
    }

    /// <summary>One message per unknown key ("Steering:Alpah is not a setting of Steering (it has Alpha, Neurons)").</summary>
    public IReadOnlyList<string> UnknownKeys(IEnumerable<string> keys)
    {
        Dictionary<string, Type> sections;
        lock (_gate) sections = new(_sections, StringComparer.OrdinalIgnoreCase);
        var unknown = new SortedDictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var key in keys)
        {
            var parts = key.Split(':');
            if (!sections.TryGetValue(parts[0], out var type)) continue;
            for (var i = 1; i < parts.Length; i++)
            {
                var next = Child(type, parts[i], out var known);
                if (next is null)
                {
                    var path = string.Join(':', parts.Take(i + 1));
                    unknown.TryAdd(path, known is null
                        ? $"{path} is not a setting: {string.Join(':', parts.Take(i))} takes no sub-keys"
                        : $"{path} is not a setting of {string.Join(':', parts.Take(i))} (it has {known})");
                    break;
                }
                type = next;
            }
        }
        return unknown.Values.ToArray();
    }

    /// <summary>The type bound under <paramref name="segment"/> of <paramref name="type"/>, or null when it binds nothing.</summary>
    private static Type? Child(Type type, string segment, out string? known)
    {
        known = null;
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (IsScalar(type)) return null;
        if (DictionaryValue(type) is { } value) return value;
        if (ElementType(type) is { } element) return int.TryParse(segment, out _) ? element : null;
        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetMethod is { IsPublic: true } && p.GetIndexParameters().Length == 0
                && (p.SetMethod is { IsPublic: true } || !IsScalar(Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType)))
            .ToArray();
        known = string.Join(", ", properties.Select(p => p.Name));
        return properties.FirstOrDefault(p => string.Equals(p.Name, segment, StringComparison.OrdinalIgnoreCase))?.PropertyType;
    }

    private static bool IsScalar(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan)
        || type == typeof(DateTime) || type == typeof(DateTimeOffset) || type == typeof(Guid) || type == typeof(Uri);

    private static Type? DictionaryValue(Type type) =>
        type.GetInterfaces().Append(type)
            .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>))?.GetGenericArguments()[1];

    private static Type? ElementType(Type type)
    {
        if (type.IsArray) return type.GetElementType();
        if (!typeof(IEnumerable).IsAssignableFrom(type)) return null;
        return type.GetInterfaces().Append(type)
            .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];
    }
}
