using System.CommandLine;
using System.Diagnostics;
using PopSteer.Cli.Plotting;
using PopSteer.Cli.Reporting;
using PopSteer.Core.Data;
using PopSteer.Core.Evaluation;
using PopSteer.Core.Scoring;
using PopSteer.Core.Storage;

namespace PopSteer.Cli.Commands;

/// <summary>
/// `popsteer compare`: PopSteer against IPR, FA*IR, PCT and P-MMF (METHOD.md section 8). Every method is tuned on
/// the validation split with the authors' selection rule and reported on the test split, in the `evaluate` schema,
/// with the trade-off plot of every validation grid point.
/// </summary>
internal static class CompareCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model directory written by `popsteer fit`.", Required = true };
        var data = new Option<string>("--data") { Description = "Interactions file the model was fitted on (u.data, ratings.dat, .inter, CSV).", Required = true };
        var format = new Option<DataFormat>("--format") { Description = "Input format.", DefaultValueFactory = _ => DataFormat.Auto };
        var kcore = new Option<int>("--kcore") { Description = "Apply the same k-core filter as at fit time (0 = off).", DefaultValueFactory = _ => 0 };
        var json = new Option<string?>("--json") { Description = "Write the test table as JSON (same schema as `evaluate`)." };
        var plot = new Option<string?>("--plot") { Description = "Write the validation trade-off plot (PNG)." };
        var markdown = new Option<string?>("--markdown") { Description = "Write the test table and the verdict as Markdown." };
        var csv = new Option<string?>("--csv") { Description = "Write the test table as CSV." };
        var maxDrop = new Option<double>("--max-ndcg-drop") { Description = "Selection rule: largest relative validation NDCG drop allowed.", DefaultValueFactory = _ => 0.05 };
        var batch = new Option<int>("--batch-size") { Description = "Users per model call (and the most score rows held at once).", DefaultValueFactory = _ => 256 };
        var seed = new Option<int>("--seed") { Description = "Seed of P-MMF's user arrival order.", DefaultValueFactory = _ => 42 };
        var device = new Option<string>("--device") { Description = "cpu, cuda or auto.", DefaultValueFactory = _ => "cpu" };

        var command = new Command("compare", "Tune PopSteer and the IPR, FA*IR, PCT and P-MMF re-rankers on validation, report all on test.");
        foreach (var option in new Option[] { model, data, format, kcore, json, plot, markdown, csv, maxDrop, batch, seed, device })
            command.Options.Add(option);

        command.SetAction((ParseResult r, CancellationToken ct) =>
        {
            try
            {
                var clock = Stopwatch.StartNew();
                using var loaded = PopSteerModel.Load(r.GetValue(model)!, r.GetValue(device)!);
                string dataPath = r.GetValue(data)!;
                var rows = InteractionReader.Read(dataPath, r.GetValue(format));
                if (r.GetValue(kcore) is > 0 and var k) rows = KCoreFilter.Apply(rows, k);
                var dataset = SequenceDataset.FromInteractions(rows, loaded.Items);
                if (dataset.SkippedRows > 0)
                    Console.Error.WriteLine($"compare: {dataset.SkippedRows} rows of {dataPath} name items the model does not know; they are left out ({dataset.SkippedUsers} users lost every row).");
                var split = LeaveOneOutSplit.Create(dataset, loaded.MaxLength);
                Console.Error.WriteLine($"compare: model {loaded.Version}, {dataset.Sequences.Count} users, {loaded.Items.Count} items; validation {split.Validation.Count}, test {split.Test.Count} users.");

                var options = new MethodComparisonOptions { MaxNdcgDrop = r.GetValue(maxDrop), BatchSize = r.GetValue(batch), Seed = r.GetValue(seed) };
                var result = MethodComparison.Run(loaded, split.Validation, split.Test, options, line => Console.Error.WriteLine(line), ct);

                var report = ComparisonReport.ToEvaluationReport(result);
                string verdict = ComparisonReport.Verdict(result, options.MaxNdcgDrop);
                report.WriteConsole();
                Console.WriteLine(verdict);
                if (r.GetValue(json) is { } jsonPath) { EnsureDirectory(jsonPath); report.WriteJson(jsonPath); }
                if (r.GetValue(csv) is { } csvPath) { EnsureDirectory(csvPath); report.WriteCsv(csvPath); }
                if (r.GetValue(markdown) is { } mdPath)
                {
                    EnsureDirectory(mdPath);
                    File.WriteAllText(mdPath, report.ToMarkdown() + "\n```\n" + verdict + "```\n");
                }
                if (r.GetValue(plot) is { } pngPath)
                    TradeoffPlot.Save(pngPath, ComparisonReport.PlotSeries(result),
                        $"{Path.GetFileName(dataPath)} validation ({result.ValidationUsers} users)");
                Console.Error.WriteLine($"compare: done in {clock.Elapsed.TotalSeconds:0.0} s.");
                return Task.FromResult(0);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or DataFormatException or ModelFormatException
                                           or ArgumentException or InvalidOperationException or IOException)
            {
                Console.Error.WriteLine($"popsteer compare: {e.Message}");
                return Task.FromResult(1);
            }
        });
        return command;
    }

    private static void EnsureDirectory(string path)
    {
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
    }
}
