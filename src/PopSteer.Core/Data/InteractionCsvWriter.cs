using System.Globalization;
using System.Text;

namespace PopSteer.Core.Data;

/// <summary>Writes interactions as CSV with the header user_id,item_id,timestamp (what `popsteer generate` emits and the reader reads back).</summary>
public static class InteractionCsvWriter
{
    public static void Write(string path, IEnumerable<Interaction> rows)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        using var writer = new StreamWriter(path, append: false, new UTF8Encoding(false));
        writer.NewLine = "\n";
        writer.WriteLine("user_id,item_id,timestamp");
        foreach (var r in rows)
        {
            writer.Write(Field(r.UserId));
            writer.Write(',');
            writer.Write(Field(r.ItemId));
            writer.Write(',');
            writer.WriteLine(r.Timestamp.ToString(CultureInfo.InvariantCulture));
        }
    }

    /// <summary>RFC 4180 quoting, only where an id needs it.</summary>
    private static string Field(string value) =>
        value.IndexOfAny([',', '"', '\n', '\r']) < 0 ? value : "\"" + value.Replace("\"", "\"\"") + "\"";
}
