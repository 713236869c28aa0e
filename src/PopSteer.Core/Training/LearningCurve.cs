using System.Globalization;

namespace PopSteer.Core.Training;

/// <summary>
/// A stage's learning curve, saved beside the model (<see cref="SasRecFile"/>, <see cref="SaeFile"/>): one row per
/// epoch with the training loss, the validation metric (NDCG@10 for SASRec, FVU for the SAE), the best so far, the
/// learning rate and the epoch's wall time (and how much of it was validation).
/// </summary>
public static class LearningCurve
{
    public const string SasRecFile = "sasrec-curve.csv";
    public const string SaeFile = "sae-curve.csv";
    private const string Columns = "epoch,loss,metric,best,learning_rate,epoch_seconds,validation_seconds,elapsed_seconds";

    /// <summary>One row as read back.</summary>
    public sealed record Point(int Epoch, double Loss, double Metric, double Best, double LearningRate, double EpochSeconds, double ValidationSeconds, double ElapsedSeconds);

    public static void Write(string path, IReadOnlyList<TrainingProgress> history)
    {
        using var writer = new StreamWriter(path);
        writer.WriteLine(Columns);
        foreach (var p in history)
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{p.Epoch},{p.Loss:R},{p.Metric:R},{p.BestMetric:R},{p.LearningRate:R},{p.EpochTime.TotalSeconds:0.###},{p.ValidationTime.TotalSeconds:0.###},{p.Elapsed.TotalSeconds:0.###}"));
    }

    /// <summary>Reads a curve written by <see cref="Write"/>; a malformed file is an error naming the file and line.</summary>
    public static IReadOnlyList<Point> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no learning curve (written by fit, train and train-sae).", path);
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0 || lines[0] != Columns) throw new FormatException($"{path}:1: expected the header '{Columns}'.");
        var points = new List<Point>();
        for (int i = 1; i < lines.Length; i++)
        {
            if (lines[i].Length == 0) continue;
            var f = lines[i].Split(',');
            if (f.Length != 8) throw new FormatException($"{path}:{i + 1}: expected 8 fields, found {f.Length}.");
            double D(int j) => double.TryParse(f[j], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || f[j] == "NaN"
                ? (f[j] == "NaN" ? double.NaN : v) : throw new FormatException($"{path}:{i + 1}: '{f[j]}' is not a number.");
            if (!int.TryParse(f[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int epoch)) throw new FormatException($"{path}:{i + 1}: '{f[0]}' is not an epoch number.");
            points.Add(new Point(epoch, D(1), D(2), D(3), D(4), D(5), D(6), D(7)));
        }
        return points;
    }
}
