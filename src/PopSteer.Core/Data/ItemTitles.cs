using System.Text;

namespace PopSteer.Core.Data;

/// <summary>
/// Human-readable item names for `explain`: MovieLens <c>u.item</c> (pipe-separated, Latin-1) and RecBole
/// <c>.item</c> files (typed header; the first column whose name contains "title" or "name").
/// </summary>
public static class ItemTitles
{
    public static IReadOnlyDictionary<string, string> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Item file not found: {path}", path);
        var titles = new Dictionary<string, string>(StringComparer.Ordinal);
        if (path.EndsWith(".item", StringComparison.OrdinalIgnoreCase) && !Path.GetFileName(path).Equals("u.item", StringComparison.OrdinalIgnoreCase))
        {
            using var reader = new StreamReader(path, Encoding.UTF8);
            var header = reader.ReadLine() ?? throw new DataFormatException(path, 1, "empty file: expected a typed header such as item_id:token\\tmovie_title:token_seq");
            var names = header.Split('\t').Select(h => h.Split(':')[0].Trim().ToLowerInvariant()).ToArray();
            int id = Array.IndexOf(names, "item_id");
            int title = Array.FindIndex(names, n => n.Contains("title", StringComparison.Ordinal) || n.Contains("name", StringComparison.Ordinal));
            if (id < 0 || title < 0) throw new DataFormatException(path, 1, "the header needs an item_id column and a title/name column");
            string? line;
            int lineNo = 1;
            while ((line = reader.ReadLine()) is not null)
            {
                lineNo++;
                if (line.Length == 0) continue;
                var cells = line.Split('\t');
                if (cells.Length <= Math.Max(id, title)) throw new DataFormatException(path, lineNo, $"expected at least {Math.Max(id, title) + 1} tab-separated columns");
                titles[cells[id]] = cells[title];
            }
            return titles;
        }

        // MovieLens 100K: id|title|release|video release|url|genres...; the file is Latin-1.
        int n = 0;
        foreach (var line in File.ReadLines(path, Encoding.Latin1))
        {
            n++;
            if (line.Length == 0) continue;
            var cells = line.Split('|');
            if (cells.Length < 2) throw new DataFormatException(path, n, "expected 'id|title|...'");
            titles[cells[0]] = cells[1];
        }
        return titles;
    }

    /// <summary>Finds a title file beside a data file: u.item, or &lt;name&gt;.item for RecBole &lt;name&gt;.inter.</summary>
    public static string? FindBeside(string dataPath)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(dataPath)) ?? ".";
        var candidates = new[] { Path.Combine(directory, "u.item"), Path.ChangeExtension(Path.GetFullPath(dataPath), ".item") };
        return candidates.FirstOrDefault(File.Exists);
    }
}
