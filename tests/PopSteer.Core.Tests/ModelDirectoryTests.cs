using PopSteer.Core.Scoring;
using PopSteer.Core.Storage;
using PopSteer.Core.Testing;

namespace PopSteer.Core.Tests;

public class ModelDirectoryTests
{
    [Fact]
    public void A_saved_directory_loads_back_with_the_same_scores_and_a_stable_version()
    {
        using var tmp = new TempDirectory();
        var dir = tmp.File("model");
        var saved = TinyModelFactory.Create(dir, items: 30, seed: 3);

        using var model = PopSteerModel.Load(dir);
        Assert.Equal(saved.Version, model.Version);
        Assert.Equal(16, model.Version.Length);
        Assert.Equal(saved.Items, model.Items.ExternalIds);
        Assert.Equal(TinyModelFactory.SaeWidth, model.SaeWidth);
        Assert.Equal(TinyModelFactory.MaxLength, model.MaxLength);
        Assert.Equal(ModelManifest.CurrentFormatVersion, model.Manifest.FormatVersion);
        Assert.Equal(4, model.Manifest.Files.Count);
        Assert.Equal(model.Version, ModelDirectory.Verify(dir).Version);

        // Loading twice gives bit-identical scores: the weights came from the files, not from a fresh random init.
        using var again = PopSteerModel.Load(dir);
        int[][] histories = [[1, 2, 3], [5], [7, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]];
        using var a = model.Scores(histories, ScoringMethod.SasRec);
        using var b = again.Scores(histories, ScoringMethod.SasRec);
        Assert.Equal(new long[] { 3, model.Items.Count + 1 }, a.shape);
        Assert.Equal(a.data<float>().ToArray(), b.data<float>().ToArray());
        Assert.True(float.IsNegativeInfinity(a[0, 0].item<float>()));
    }

    [Theory]
    [InlineData(ModelDirectory.SasRecFile)]
    [InlineData(ModelDirectory.SaeFile)]
    [InlineData(ModelDirectory.NeuronsFile)]
    [InlineData(ModelDirectory.GroupsFile)]
    public void A_tampered_file_is_refused_with_its_name(string file)
    {
        using var tmp = new TempDirectory();
        var dir = tmp.File("model");
        TinyModelFactory.Create(dir);
        var path = Path.Combine(dir, file);
        var bytes = File.ReadAllBytes(path);
        bytes[bytes.Length / 2] ^= 0x01;
        File.WriteAllBytes(path, bytes);

        var ex = Assert.Throws<ModelFormatException>(() => PopSteerModel.Load(dir));
        Assert.Contains(file, ex.Message);
        Assert.Contains("SHA-256", ex.Message);
    }

    [Fact]
    public void A_missing_file_or_manifest_is_refused_with_its_name()
    {
        using var tmp = new TempDirectory();
        var dir = tmp.File("model");
        TinyModelFactory.Create(dir);
        File.Delete(Path.Combine(dir, ModelDirectory.SaeFile));
        var ex = Assert.Throws<ModelFormatException>(() => ModelDirectory.Verify(dir));
        Assert.Contains(ModelDirectory.SaeFile, ex.Message);
        Assert.Contains("missing", ex.Message);

        File.Delete(Path.Combine(dir, ModelManifest.FileName));
        ex = Assert.Throws<ModelFormatException>(() => PopSteerModel.Load(dir));
        Assert.Contains(ModelManifest.FileName, ex.Message);
    }

    [Fact]
    public void A_manifest_whose_shapes_disagree_with_its_configuration_is_refused()
    {
        using var tmp = new TempDirectory();
        var dir = tmp.File("model");
        var manifest = TinyModelFactory.Create(dir);
        // Claim a wider feed-forward than the weights have; the shape check names the file and the parameter.
        manifest.SasRec = manifest.SasRec with { FeedForward = 48 };
        ModelDirectory.WriteManifest(dir, manifest);
        var ex = Assert.Throws<ModelFormatException>(() => PopSteerModel.Load(dir));
        Assert.Contains(ModelDirectory.SasRecFile, ex.Message);
        Assert.Contains("dense_1", ex.Message);
    }

    [Fact]
    public void A_newer_format_version_is_refused()
    {
        using var tmp = new TempDirectory();
        var dir = tmp.File("model");
        var manifest = TinyModelFactory.Create(dir);
        manifest.FormatVersion = ModelManifest.CurrentFormatVersion + 1;
        ModelDirectory.WriteManifest(dir, manifest);
        var ex = Assert.Throws<ModelFormatException>(() => ModelDirectory.Verify(dir));
        Assert.Contains("format version", ex.Message);
    }
}
