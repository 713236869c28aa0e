using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using PopSteer.Core.Metrics;
using Spectre.Console;

namespace PopSteer.Cli.Reporting;

/// <summary>
/// The result of `evaluate`, `compare` (and anything else that scores methods on a split), in the one
/// schema every output shares:
/// <code>
/// {"split":"test","users":943,"methods":[
///   {"name":"PopSteer","alpha":1.5,"neurons":4096,"metrics":{"ndcg@10":..,"hit@10":..,...}},
///   {"name":"FA*IR","alpha":null,"neurons":null,"params":{"p":0.5,"alpha":0.05},"ms_per_1000_users":12.3,"metrics":{...}}]}
/// </code>
/// Metric names and order come from <see cref="MetricSet.Named"/>, so JSON, console table, Markdown
/// and CSV cannot disagree. "params", "ms_per_1000_users" and "note" appear only on rows that have them.
/// </summary>
public sealed record EvaluationReport(string Split, int Users, IReadOnlyList<MethodResult> Methods)
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = true,
        // Method names such as "FA*IR" and "P-MMF" stay readable instead of \u002A escapes.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("split", Split);
            json.WriteNumber("users", Users);
            json.WriteStartArray("methods");
            foreach (var m in Methods)
            {
                json.WriteStartObject();
                json.WriteString("name", m.Name);
                WriteNullable(json, "alpha", m.Alpha);
                if (m.Neurons is { } n) json.WriteNumber("neurons", n); else json.WriteNull("neurons");
                if (m.Params is not null)
                {
                    json.WriteStartObject("params");
                    foreach (var (key, value) in m.Params) WriteNumber(json, key, value);
                    json.WriteEndObject();
                }
                if (m.MsPer1000Users is { } ms) WriteNumber(json, "ms_per_1000_users", ms);
                if (m.Note is not null) json.WriteString("note", m.Note);
                json.WriteStartObject("metrics");
                foreach (var (name, value) in m.Metrics.Named()) WriteNumber(json, name, value);
                json.WriteEndObject();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public void WriteJson(string path) => File.WriteAllText(path, ToJson() + Environment.NewLine);

    /// <summary>Reads a report written by <see cref="ToJson"/> (e.g. to fold a stored run into the README).</summary>
    public static EvaluationReport FromJson(string text, string source = "<json>")
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            var root = doc.RootElement;
            var methods = new List<MethodResult>();
            foreach (var m in Required(root, "methods", source).EnumerateArray())
            {
                string name = Required(m, "name", source).GetString() ?? throw new FormatException($"{source}: a method has a null name.");
                double? alpha = m.TryGetProperty("alpha", out var a) && a.ValueKind == JsonValueKind.Number ? a.GetDouble() : null;
                int? neurons = m.TryGetProperty("neurons", out var n) && n.ValueKind == JsonValueKind.Number ? n.GetInt32() : null;
                Dictionary<string, double>? parameters = null;
                if (m.TryGetProperty("params", out var p) && p.ValueKind == JsonValueKind.Object)
                    parameters = p.EnumerateObject().ToDictionary(x => x.Name, x => x.Value.GetDouble());
                double? ms = m.TryGetProperty("ms_per_1000_users", out var t) && t.ValueKind == JsonValueKind.Number ? t.GetDouble() : null;
                string? note = m.TryGetProperty("note", out var nt) && nt.ValueKind == JsonValueKind.String ? nt.GetString() : null;
                var metrics = MetricsFromJson(Required(m, "metrics", source), Required(root, "users", source).GetInt32(), source, name);
                methods.Add(new MethodResult(name, metrics, alpha, neurons, parameters, ms, note));
            }
            return new EvaluationReport(Required(root, "split", source).GetString() ?? "", Required(root, "users", source).GetInt32(), methods);
        }
        catch (JsonException e)
        {
            throw new FormatException($"{source}: not a valid evaluation report ({e.Message}).", e);
        }
    }

    /// <summary>Metric columns: the names of <see cref="MetricSet.Named"/> (taken from the first row, all rows share K).</summary>
    public IReadOnlyList<string> MetricNames =>
        Methods.Count == 0 ? new MetricSet().Named().Select(x => x.Key).ToList() : Methods[0].Metrics.Named().Select(x => x.Key).ToList();

    /// <summary>A GitHub-flavoured Markdown table, one row per method.</summary>
    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        var names = MetricNames;
        bool timed = Methods.Any(m => m.MsPer1000Users is not null);
        sb.Append(CultureInfo.InvariantCulture, $"Split: {Split}, users: {Users}\n\n");
        sb.Append("| method | settings | ").Append(string.Join(" | ", names));
        if (timed) sb.Append(" | ms / 1,000 users");
        sb.Append(" |\n|---|---|").Append(string.Concat(names.Select(_ => "---:|")));
        if (timed) sb.Append("---:|");
        sb.Append('\n');
        foreach (var m in Methods)
        {
            sb.Append("| ").Append(EscapeMarkdown(m.Name)).Append(m.Note is null ? "" : " (!)").Append(" | ").Append(EscapeMarkdown(m.Settings)).Append(" | ");
            sb.Append(string.Join(" | ", m.Metrics.Named().Select(x => ReportFormat.Metric(x.Value))));
            if (timed) sb.Append(" | ").Append(ReportFormat.Millis(m.MsPer1000Users));
            sb.Append(" |\n");
        }
        foreach (var m in Methods.Where(m => m.Note is not null))
            sb.Append("\n(!) ").Append(EscapeMarkdown(m.Name)).Append(": ").Append(m.Note).Append('\n');
        return sb.ToString();
    }

    public void WriteMarkdown(string path) => File.WriteAllText(path, ToMarkdown());

    /// <summary>
    /// RFC 4180 CSV: method, alpha, neurons, params (as "key=value;key=value"), every metric, ms_per_1000_users.
    /// Empty cells where a row has no value.
    /// </summary>
    public string ToCsv()
    {
        var sb = new StringBuilder();
        var names = MetricNames;
        sb.Append("split,users,method,alpha,neurons,params,").Append(string.Join(",", names)).Append(",ms_per_1000_users\n");
        foreach (var m in Methods)
        {
            string parameters = m.Params is null ? "" : string.Join(";", m.Params.Select(p => $"{p.Key}={ReportFormat.Number(p.Value)}"));
            sb.Append(Csv(Split)).Append(',').Append(Users.ToString(CultureInfo.InvariantCulture)).Append(',')
              .Append(Csv(m.Name)).Append(',')
              .Append(m.Alpha is { } a ? ReportFormat.Number(a) : "").Append(',')
              .Append(m.Neurons is { } n ? n.ToString(CultureInfo.InvariantCulture) : "").Append(',')
              .Append(Csv(parameters)).Append(',')
              .Append(string.Join(",", m.Metrics.Named().Select(x => x.Value.ToString("R", CultureInfo.InvariantCulture)))).Append(',')
              .Append(m.MsPer1000Users is { } ms ? ms.ToString("R", CultureInfo.InvariantCulture) : "")
              .Append('\n');
        }
        return sb.ToString();
    }

    public void WriteCsv(string path) => File.WriteAllText(path, ToCsv());

    /// <summary>
    /// The console view (Spectre.Console): two tables so an 80-column terminal stays readable, accuracy
    /// (with the settings) first, then popularity bias (with the time per 1,000 users).
    /// </summary>
    public IReadOnlyList<Table> ToTables()
    {
        var names = MetricNames;
        var accuracy = names.Where(n => !IsBiasMetric(n)).ToList();
        var bias = names.Where(IsBiasMetric).ToList();
        int k = Methods.Count > 0 ? Methods[0].Metrics.K : 10;
        bool timed = Methods.Any(m => m.MsPer1000Users is not null);

        var first = NewTable($"[bold]{Markup.Escape(Split)}[/] split, {Users} users: accuracy @{k}", "settings", accuracy, null);
        var second = NewTable($"[bold]{Markup.Escape(Split)}[/] split, {Users} users: popularity bias @{k}", null, bias, timed ? "ms/1k users" : null);
        foreach (var m in Methods)
        {
            var values = m.Metrics.Named().ToDictionary(x => x.Key, x => x.Value);
            string name = Markup.Escape(m.Name) + (m.Note is null ? "" : " [yellow](!)[/]");
            first.AddRow([name, Markup.Escape(m.Settings), .. accuracy.Select(n => ReportFormat.Metric(values[n]))]);
            var row = new List<string> { name };
            row.AddRange(bias.Select(n => ReportFormat.Metric(values[n])));
            if (timed) row.Add(ReportFormat.Millis(m.MsPer1000Users));
            second.AddRow(row.ToArray());
        }
        return [first, second];
    }

    public void WriteConsole(IAnsiConsole? console = null)
    {
        var target = console ?? AnsiConsole.Console;
        foreach (var table in ToTables()) target.Write(table);
        foreach (var m in Methods.Where(m => m.Note is not null))
            target.MarkupLine($"[yellow](!)[/] {Markup.Escape(m.Name)}: {Markup.Escape(m.Note!)}");
    }

    private static bool IsBiasMetric(string name) =>
        name.StartsWith("gini@", StringComparison.Ordinal) || name.Contains("coverage@", StringComparison.Ordinal)
        || name.StartsWith("aplt@", StringComparison.Ordinal) || name.StartsWith("arp@", StringComparison.Ordinal);

    private static Table NewTable(string title, string? settingsColumn, IEnumerable<string> metrics, string? timeColumn)
    {
        var table = new Table().Border(TableBorder.Rounded).Title(title);
        table.AddColumn("method");
        if (settingsColumn is not null) table.AddColumn(settingsColumn);
        foreach (var name in metrics) table.AddColumn(new TableColumn(Markup.Escape(ShortHeader(name))).RightAligned());
        if (timeColumn is not null) table.AddColumn(new TableColumn(timeColumn).RightAligned());
        return table;
    }

    // "tail_coverage@10" -> "tail cov", "ndcg_head@10" -> "ndcg head": the title already says @K.
    private static string ShortHeader(string name)
    {
        int at = name.IndexOf('@', StringComparison.Ordinal);
        string bare = at > 0 ? name[..at] : name;
        return bare.Replace("_coverage", " cov", StringComparison.Ordinal).Replace('_', ' ');
    }

    private static void WriteNullable(Utf8JsonWriter json, string name, double? value)
    {
        if (value is { } v) WriteNumber(json, name, v); else json.WriteNull(name);
    }

    // JSON has no NaN/Infinity; a metric that is not a number is written as null rather than failing the whole report.
    private static void WriteNumber(Utf8JsonWriter json, string name, double value)
    {
        if (double.IsFinite(value)) json.WriteNumber(name, value); else json.WriteNull(name);
    }

    private static JsonElement Required(JsonElement parent, string name, string source) =>
        parent.TryGetProperty(name, out var value) ? value : throw new FormatException($"{source}: missing \"{name}\".");

    private static MetricSet MetricsFromJson(JsonElement metrics, int users, string source, string method)
    {
        double Get(string key) => metrics.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number
            ? v.GetDouble()
            : throw new FormatException($"{source}: method \"{method}\" lacks metric \"{key}\".");
        var first = metrics.EnumerateObject().FirstOrDefault();
        int at = first.Name?.IndexOf('@', StringComparison.Ordinal) ?? -1;
        int k = at > 0 && int.TryParse(first.Name![(at + 1)..], NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) ? parsed : 10;
        return new MetricSet
        {
            Users = users, K = k,
            Ndcg = Get($"ndcg@{k}"), Hit = Get($"hit@{k}"), Mrr = Get($"mrr@{k}"), Gini = Get($"gini@{k}"),
            TailCoverage = Get($"tail_coverage@{k}"), LongTailCoverage = Get($"lt_coverage@{k}"),
            ItemCoverage = Get($"item_coverage@{k}"), Aplt = Get($"aplt@{k}"), Arp = Get($"arp@{k}"),
            NdcgHead = Get($"ndcg_head@{k}"), NdcgMid = Get($"ndcg_mid@{k}"), NdcgTail = Get($"ndcg_tail@{k}"),
        };
    }

    private static string Csv(string field) =>
        field.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : field;

    private static string EscapeMarkdown(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("*", "\\*", StringComparison.Ordinal);
}
