using System.CommandLine;
using PopSteer.Core.Data;

namespace PopSteer.Cli.Commands;

/// <summary>Options several verbs share, so every verb spells and documents them the same way.</summary>
internal static class CommonOptions
{
    public static Option<string> Data(bool required = true) => new("--data")
    {
        Description = "Interaction file: MovieLens u.data / ratings.dat, RecBole .inter, or CSV/TSV with named columns.",
        Required = required,
    };

    public static Option<DataFormat> Format() => new("--format")
    {
        Description = "Input format (auto detects by extension and content).",
        DefaultValueFactory = _ => DataFormat.Auto,
    };

    public static Option<int> KCore() => new("--kcore")
    {
        Description = "Iterative k-core filter (users then items, until stable); 0 = off.",
        DefaultValueFactory = _ => 0,
    };

    public static Option<string> Model(bool required = true) => new("--model")
    {
        Description = "Model directory (manifest.json beside the weights).",
        Required = required,
    };

    public static Option<int> Seed() => new("--seed")
    {
        Description = "Random seed for initialisation, shuffling and sampling.",
        DefaultValueFactory = _ => 42,
    };

    public static Option<string> Device() => new("--device")
    {
        Description = "Torch device: cpu, cuda or auto.",
        DefaultValueFactory = _ => "cpu",
    };

    public static Option<string> Split() => new("--split")
    {
        Description = "Evaluation split: valid or test.",
        DefaultValueFactory = _ => "test",
    };

    public static Option<Core.Steering.SigmaSource> Sigma() => new("--sigma")
    {
        Description = "Which group's std scales the shift: Opposite (the authors' code: the group the neuron does not favour) or Favoured.",
        DefaultValueFactory = _ => Core.Steering.SigmaSource.Opposite,
    };

    /// <summary>Parses a comma-separated list such as "0,0.5,1.5" into numbers, naming the option on error.</summary>
    public static IReadOnlyList<T> ParseList<T>(string? text, string option) where T : IParsable<T>
    {
        if (string.IsNullOrWhiteSpace(text)) return [];
        var values = new List<T>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!T.TryParse(part, System.Globalization.CultureInfo.InvariantCulture, out var value))
                throw new ArgumentException($"{option}: '{part}' is not a valid {typeof(T).Name}.");
            values.Add(value);
        }
        return values;
    }
}
