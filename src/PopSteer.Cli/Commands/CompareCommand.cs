using System.CommandLine;
using System.Diagnostics;
using PopSteer.Cli.Plotting;
using PopSteer.Cli.Reporting;
using PopSteer.Core.Evaluation;
using PopSteer.Core.Scoring;

namespace PopSteer.Cli.Commands;

/// <summary>
/// `popsteer compare`: PopSteer against IPR, FA*IR, PCT and P-MMF (METHOD.md section 8). Every method is tuned on
/// the validation split with the authors' selection rule and reported on the test split, in the `evaluate` schema,
/// with paired tests and bootstrap intervals of every difference, each method's validation Pareto front, and the
/// trade-off plot of every validation grid point. User errors reach <see cref="CliErrors"/>.
/// </summary>
internal static class CompareCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var data = CommonOptions.Data();
        var format = CommonOptions.Format();
        var kCore = CommonOptions.KCore();
        var json = new Option<string?>("--json") { Description = "Write the test table as JSON (same schema as `evaluate`)." };
        var plot = new Option<string?>("--plot") { Description = "Write the validation trade-off plot of every method's grid (PNG)." };
        var markdown = new Option<string?>("--markdown") { Description = "Write the test table and the verdict as Markdown." };
        var csv = new Option<string?>("--csv") { Description = "Write the test table as CSV." };
        var maxDrop = new Option<double>("--max-ndcg-drop") { Description = "Selection rule: largest relative validation NDCG@10 drop allowed.", DefaultValueFactory = _ => 0.05 };
        var batch = new Option<int>("--batch-size") { Description = "Users per model call (and the most score rows held at once).", DefaultValueFactory = _ => 256 };
        var timedRuns = new Option<int>("--timed-runs") { Description = "Timed test passes per method; the median time is reported.", DefaultValueFactory = _ => 3 };
        var seed = CommonOptions.Seed();
        seed.Description = "Seed of the bootstrap's resampling of users.";
        var resamples = new Option<int>("--bootstrap") { Description = "Bootstrap resamples behind every 95% confidence interval.", DefaultValueFactory = _ => 1000 };
        var device = CommonOptions.Device();

        var command = new Command("compare", "Tune PopSteer and the IPR, FA*IR, PCT and P-MMF re-rankers on validation, report all on test.")
        {
            model, data, format, kCore, json, plot, markdown, csv, maxDrop, batch, timedRuns, seed, resamples, device,
        };
        command.SetAction((ParseResult r, CancellationToken ct) =>
        {
            var clock = Stopwatch.StartNew();
            using var m = PopSteerModel.Load(r.GetRequiredValue(model), r.GetValue(device) ?? "cpu");
            string dataPath = r.GetRequiredValue(data);
            var (split, _) = EvaluationSplit.Load(m, dataPath, r.GetValue(format), r.GetValue(kCore), "test");
            Console.Error.WriteLine($"compare: model {m.Version}, {m.Items.Count} items; validation {split.Validation.Count} users, test {split.Test.Count} users.");

            var options = new MethodComparisonOptions { MaxNdcgDrop = r.GetValue(maxDrop), BatchSize = r.GetValue(batch), TimedRuns = r.GetValue(timedRuns), Seed = r.GetValue(seed),
                BootstrapResamples = r.GetValue(resamples), References = ComparisonReferences.For(m) };
            var result = MethodComparison.Run(m, split.Validation, split.Test, options, line => Console.Error.WriteLine(line), ct);

            var report = ComparisonReport.ToEvaluationReport(result);
            double drop = options.MaxNdcgDrop;
            if (r.GetValue(json) is { } jsonPath) Write(jsonPath, path => File.WriteAllText(path, ComparisonReport.ToJson(result, report, drop) + Environment.NewLine));
            if (r.GetValue(csv) is { } csvPath) Write(csvPath, path => File.WriteAllText(path, ComparisonReport.ToCsv(result, report)));
            if (r.GetValue(markdown) is { } mdPath) Write(mdPath, path => File.WriteAllText(path, ComparisonReport.ToMarkdown(result, report, drop)));
            if (r.GetValue(plot) is { } pngPath)
                Write(pngPath, path => TradeoffPlot.Save(path, ComparisonReport.PlotSeries(result),
                    $"{Path.GetFileName(dataPath)} validation ({result.ValidationUsers:N0} users)"));
            // The files first: a console that cannot render a table must not cost the results.
            ComparisonReport.WriteConsole(result, report, drop);
            Console.Error.WriteLine($"compare: done in {clock.Elapsed.TotalSeconds:0.0} s.");
            return Task.FromResult(0);
        });
        return command;
    }

    private static void Write(string path, Action<string> write)
    {
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        write(path);
        Console.Error.WriteLine($"wrote {path}");
    }
}
