using System.Globalization;

namespace PopSteer.Cli.Reporting;

/// <summary>Number formatting shared by every report writer, so tables, Markdown and CSV agree digit for digit.</summary>
internal static class ReportFormat
{
    /// <summary>Metrics: four decimals, invariant culture (a comma decimal separator would break the CSV).</summary>
    public static string Metric(double value) => value.ToString("0.0000", CultureInfo.InvariantCulture);

    /// <summary>Hyperparameters: shortest round-trip form, so 0.001 stays 0.001 and 4096 stays 4096.</summary>
    public static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    public static string Millis(double? value) => value is { } v ? v.ToString("0.0", CultureInfo.InvariantCulture) : "";
}
