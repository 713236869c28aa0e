using PopSteer.Core.Data;
using PopSteer.Core.Scoring;
using PopSteer.Core.Training;

namespace PopSteer.Cli.Commands;

/// <summary>Loads the data a model was trained on, with the model's item vocabulary, and picks a split.</summary>
internal static class EvaluationSplit
{
    public static (LeaveOneOutSplit Split, IReadOnlyList<EvaluationCase> Cases) Load(PopSteerModel model, string dataPath, DataFormat format, int kCore, string split)
    {
        var data = PopSteerFitter.LoadData(dataPath, format, kCore, model.Items);
        if (!string.IsNullOrEmpty(model.Manifest.DataFingerprint) && data.Fingerprint != model.Manifest.DataFingerprint)
            Console.Error.WriteLine($"warning: {dataPath} is not the data this model was trained on (fingerprint differs); the split will not match training.");
        var loo = LeaveOneOutSplit.Create(data, model.MaxLength);
        var cases = split.ToLowerInvariant() switch
        {
            "valid" or "validation" => loo.Validation,
            "test" => loo.Test,
            _ => throw new ArgumentException($"--split: '{split}' is not valid; use valid or test."),
        };
        return (loo, cases);
    }
}
