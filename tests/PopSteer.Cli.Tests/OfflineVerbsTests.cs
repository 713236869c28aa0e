using System.Text.Json;
using PopSteer.Core.Storage;

namespace PopSteer.Cli.Tests;

/// <summary>
/// The offline verbs as scripts call them (flags and files, exit codes), on a tiny generated data set: one fit shared
/// by the tests of this class.
/// </summary>
public sealed class OfflineVerbsTests : IClassFixture<OfflineVerbsTests.FittedModel>
{
    private readonly FittedModel _fitted;

    public OfflineVerbsTests(FittedModel fitted) => _fitted = fitted;

    public sealed class FittedModel : IDisposable
    {
        public FittedModel()
        {
            Directory.CreateDirectory(Root);
            Run("generate", "--users", "120", "--items", "60", "--interactions", "2400", "--seed", "3", "--out", DataPath).AssertOk("generate");
            Run("fit", "--data", DataPath, "--out", ModelPath, "--epochs", "3", "--sae-epochs", "2", "--prefixes", "400", "--seed", "3", "--curve-plot", CurvePlot).AssertOk("fit");
        }

        public string Root { get; } = Path.Combine(Path.GetTempPath(), $"popsteer-cli-{Guid.NewGuid():N}");
        public string DataPath => Path.Combine(Root, "data.csv");
        public string ModelPath => Path.Combine(Root, "model");
        public string CurvePlot => Path.Combine(Root, "curves.png");

        public void Dispose() => Directory.Delete(Root, recursive: true);
    }

    private static int Run(params string[] args) => CliApp.RunAsync(args).GetAwaiter().GetResult();

    [Fact]
    public void Fit_writes_a_complete_verifiable_model_directory()
    {
        var manifest = ModelDirectory.Verify(_fitted.ModelPath);
        Assert.NotNull(manifest.Sae);
        Assert.NotNull(manifest.Analysis);
        Assert.True(manifest.Metrics.ContainsKey("sasrec.valid.ndcg@10"));
        Assert.True(manifest.Metrics.ContainsKey("sae.valid.fvu"));
        Assert.Equal(60, manifest.Items.Count);
        // The references fit compares SASRec with, and the learning curves it saved and drew.
        Assert.True(manifest.Metrics.ContainsKey("reference.valid.lastitem.ndcg@10"));
        Assert.True(manifest.Metrics.ContainsKey("reference.valid.mostpop.ndcg@10"));
        Assert.Equal(3, File.ReadAllLines(Path.Combine(_fitted.ModelPath, "sasrec-curve.csv")).Length - 1);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(_fitted.CurvePlot)[..4]);
    }

    [Fact]
    public void Evaluate_writes_the_references_and_the_three_methods_with_every_metric_and_the_alpha_asked_for()
    {
        var json = Path.Combine(_fitted.Root, "eval.json");
        Run("evaluate", "--model", _fitted.ModelPath, "--data", _fitted.DataPath, "--split", "valid", "--alpha", "2", "--neurons", "1024", "--json", json).AssertOk("evaluate");

        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal("valid", doc.RootElement.GetProperty("split").GetString());
        var methods = doc.RootElement.GetProperty("methods").EnumerateArray().ToArray();
        Assert.Equal(["MostPop", "Last item", "SASRec", "SAE", "PopSteer"], methods.Select(m => m.GetProperty("name").GetString()));
        Assert.Equal(2, methods[4].GetProperty("alpha").GetDouble());
        Assert.Equal(1024, methods[4].GetProperty("neurons").GetInt32());
        foreach (var m in methods)
            Assert.Equal(12, m.GetProperty("metrics").EnumerateObject().Count());
    }

    [Fact]
    public void Sweep_draws_a_png_and_tune_stores_its_choice_in_the_manifest()
    {
        var png = Path.Combine(_fitted.Root, "sweep.png");
        Run("sweep", "--model", _fitted.ModelPath, "--data", _fitted.DataPath, "--alphas", "0,1,3", "--neurons", "2048,4096", "--plot", png).AssertOk("sweep");
        var header = File.ReadAllBytes(png)[..8];
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, header);

        // A bound no point can miss (100% drop allowed) makes the choice certain; a tiny grid keeps it fast.
        Run("tune", "--model", _fitted.ModelPath, "--data", _fitted.DataPath, "--alphas", "1,2", "--neurons", "4096", "--max-ndcg-drop", "1").AssertOk("tune");
        var steering = ModelDirectory.Verify(_fitted.ModelPath).Steering;
        Assert.NotNull(steering);
        Assert.Contains(steering!.Alpha, new[] { 1.0, 2.0 });
        Assert.Equal(4096, steering.Neurons);
    }

    [Fact]
    public void Explain_lists_neurons_and_refuses_one_outside_the_sae()
    {
        Assert.Equal(0, Run("explain", "--model", _fitted.ModelPath, "--top", "3"));
        Assert.Equal(2, Run("explain", "--model", _fitted.ModelPath, "--neuron", "999999"));
    }

    [Fact]
    public void A_missing_file_or_a_malformed_row_is_a_user_error_not_a_crash()
    {
        Assert.Equal(2, Run("evaluate", "--model", _fitted.ModelPath, "--data", Path.Combine(_fitted.Root, "nope.csv")));
        Assert.Equal(2, Run("evaluate", "--model", Path.Combine(_fitted.Root, "no-model"), "--data", _fitted.DataPath));

        var bad = Path.Combine(_fitted.Root, "bad.csv");
        File.WriteAllText(bad, "user_id,item_id,timestamp\nu1,i1,100\nu1,i2,not-a-time\n");
        Assert.Equal(2, Run("fit", "--data", bad, "--out", Path.Combine(_fitted.Root, "bad-model")));
        Assert.False(Directory.Exists(Path.Combine(_fitted.Root, "bad-model", "manifest.json")));
    }

    [Fact]
    public void Bad_grid_values_are_refused_before_any_work()
    {
        Assert.Equal(2, Run("sweep", "--model", _fitted.ModelPath, "--data", _fitted.DataPath, "--alphas", "1,x", "--plot", Path.Combine(_fitted.Root, "x.png")));
        Assert.Equal(2, Run("evaluate", "--model", _fitted.ModelPath, "--data", _fitted.DataPath, "--alpha", "-1"));
    }
}

internal static class ExitCodeAssertions
{
    public static void AssertOk(this int exitCode, string verb) => Assert.True(exitCode == 0, $"popsteer {verb} exited with {exitCode}");
}
