using System.Globalization;
using Microsoft.VisualBasic.FileIO;

namespace PopSteer.Core.Data;

/// <summary>
/// Reads interaction files into rows in file order. Every row is kept (implicit feedback: ratings are carried as the
/// weight, never thresholded; duplicates stay). A bad row stops the read with the file and 1-based line.
/// </summary>
public static class InteractionReader
{
    private static readonly string[] UserColumns = ["user_id", "userid", "user", "uid", "user id"];
    private static readonly string[] ItemColumns = ["item_id", "itemid", "item", "movie_id", "movieid", "movie", "artist_id", "artistid", "track_id", "trackid", "iid"];
    private static readonly string[] TimeColumns = ["timestamp", "time", "ts", "datetime", "date", "unix_timestamp"];
    private static readonly string[] WeightColumns = ["weight", "rating", "score", "count", "plays", "playcount"];

    public static IReadOnlyList<Interaction> Read(string path, DataFormat format = DataFormat.Auto)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Data file '{path}' does not exist.", path);
        if (format == DataFormat.Auto) format = Detect(path);
        return format switch
        {
            DataFormat.MovieLens => ReadMovieLens(path),
            DataFormat.RecBole => ReadRecBole(path),
            DataFormat.Csv => ReadCsv(path),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, "unknown data format"),
        };
    }

    /// <summary>Extension first (.inter, .csv/.tsv, .dat, .data), then the first non-empty line.</summary>
    public static DataFormat Detect(string path)
    {
        var ext = Path.GetExtension(path).ToLowerInvariant();
        switch (ext)
        {
            case ".inter": return DataFormat.RecBole;
            case ".csv" or ".tsv": return DataFormat.Csv;
            case ".dat" or ".data": return DataFormat.MovieLens;
        }
        var first = File.ReadLines(path).FirstOrDefault(l => l.Trim().Length > 0)
            ?? throw new DataFormatException(path, 0, "the file is empty");
        if (first.Contains("::")) return DataFormat.MovieLens;
        var fields = first.Split(['\t', ',', ';']);
        if (fields.Any(f => f.Contains(':'))) return DataFormat.RecBole;
        if (fields.Length >= 3 && fields.All(f => double.TryParse(f.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out _)) && first.Contains('\t'))
            return DataFormat.MovieLens;
        if (fields.Select(Normalise).Any(UserColumns.Contains) && fields.Select(Normalise).Any(ItemColumns.Contains)) return DataFormat.Csv;
        throw new DataFormatException(path, 1, "cannot tell the format: expected MovieLens (u.data, ratings.dat), a RecBole .inter header, or a CSV/TSV header naming user and item columns; pass --format");
    }

    private static IReadOnlyList<Interaction> ReadMovieLens(string path)
    {
        var rows = new List<Interaction>();
        long lineNo = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNo++;
            if (line.Trim().Length == 0) continue;
            var f = line.Contains("::") ? line.Split("::") : line.Split('\t');
            if (f.Length != 4)
                throw new DataFormatException(path, lineNo, $"expected 4 fields (user, item, rating, timestamp) separated by a tab or '::', found {f.Length}");
            rows.Add(new Interaction(Id(path, lineNo, f[0], "user"), Id(path, lineNo, f[1], "item"),
                Timestamp(path, lineNo, f[3]), Weight(path, lineNo, f[2])));
        }
        return rows;
    }

    private static IReadOnlyList<Interaction> ReadRecBole(string path)
    {
        var rows = new List<Interaction>();
        long lineNo = 0;
        int user = -1, item = -1, time = -1, weight = -1, width = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNo++;
            if (lineNo == 1)
            {
                var header = line.Split('\t');
                width = header.Length;
                for (int c = 0; c < header.Length; c++)
                {
                    var parts = header[c].Split(':');
                    if (parts.Length != 2) throw new DataFormatException(path, 1, $"header field '{header[c]}' is not 'name:type' as RecBole's atomic files require");
                    var name = parts[0].Trim().ToLowerInvariant();
                    if (name == "user_id") user = c;
                    else if (name == "item_id") item = c;
                    else if (name == "timestamp") time = c;
                    else if (name is "rating" or "weight") weight = c;
                }
                if (user < 0 || item < 0) throw new DataFormatException(path, 1, "the header names no user_id or no item_id column");
                continue;
            }
            if (line.Trim().Length == 0) continue;
            var f = line.Split('\t');
            if (f.Length != width) throw new DataFormatException(path, lineNo, $"expected {width} tab-separated fields as in the header, found {f.Length}");
            rows.Add(new Interaction(Id(path, lineNo, f[user], "user"), Id(path, lineNo, f[item], "item"),
                time >= 0 ? Timestamp(path, lineNo, f[time]) : lineNo,
                weight >= 0 ? Weight(path, lineNo, f[weight]) : 1f));
        }
        if (lineNo == 0) throw new DataFormatException(path, 0, "the file is empty");
        return rows;
    }

    private static IReadOnlyList<Interaction> ReadCsv(string path)
    {
        var rows = new List<Interaction>();
        var firstLine = File.ReadLines(path).FirstOrDefault() ?? throw new DataFormatException(path, 0, "the file is empty");
        char delimiter = firstLine.Contains('\t') ? '\t' : firstLine.Contains(',') ? ',' : firstLine.Contains(';') ? ';' : ',';
        using var parser = new TextFieldParser(path) { TextFieldType = FieldType.Delimited, HasFieldsEnclosedInQuotes = true, TrimWhiteSpace = true };
        parser.SetDelimiters(delimiter.ToString());
        var header = parser.ReadFields() ?? throw new DataFormatException(path, 1, "no header line");
        var names = header.Select(Normalise).ToArray();
        int Find(string[] candidates) => Array.FindIndex(names, candidates.Contains);
        int user = Find(UserColumns), item = Find(ItemColumns), time = Find(TimeColumns), weight = Find(WeightColumns);
        if (user < 0) throw new DataFormatException(path, 1, $"no user column in the header (looked for {string.Join(", ", UserColumns)})");
        if (item < 0) throw new DataFormatException(path, 1, $"no item column in the header (looked for {string.Join(", ", ItemColumns)})");
        while (!parser.EndOfData)
        {
            long lineNo = parser.LineNumber;
            string[]? f;
            try { f = parser.ReadFields(); }
            catch (MalformedLineException e) { throw new DataFormatException(path, e.LineNumber, $"malformed CSV ({e.Message})", e); }
            if (f is null || (f.Length == 1 && f[0].Length == 0)) continue;
            if (f.Length != header.Length) throw new DataFormatException(path, lineNo, $"expected {header.Length} fields as in the header, found {f.Length}");
            rows.Add(new Interaction(Id(path, lineNo, f[user], "user"), Id(path, lineNo, f[item], "item"),
                time >= 0 ? Timestamp(path, lineNo, f[time]) : lineNo,
                weight >= 0 ? Weight(path, lineNo, f[weight]) : 1f));
        }
        return rows;
    }

    private static string Normalise(string header) => header.Trim().Trim('"').ToLowerInvariant();

    private static string Id(string path, long line, string value, string what)
    {
        var v = value.Trim();
        if (v.Length == 0) throw new DataFormatException(path, line, $"empty {what} id");
        return v;
    }

    /// <summary>Integer or fractional epoch time, or an ISO-8601 date (converted to epoch seconds).</summary>
    private static long Timestamp(string path, long line, string value)
    {
        var v = value.Trim();
        if (long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ts)) return ts;
        if (double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) && Math.Abs(d) < 9e18) return (long)d;
        if (DateTimeOffset.TryParse(v, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var dto)) return dto.ToUnixTimeSeconds();
        throw new DataFormatException(path, line, $"timestamp '{value}' is neither a number nor an ISO-8601 date");
    }

    private static float Weight(string path, long line, string value)
    {
        if (float.TryParse(value.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var w) && float.IsFinite(w)) return w;
        throw new DataFormatException(path, line, $"rating/weight '{value}' is not a number");
    }
}
