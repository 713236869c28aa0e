namespace PopSteer.Streaming.Tests.Scoring;

/// <summary>A fresh directory under the system temp folder, deleted on dispose.</summary>
public sealed class ScratchDirectory : IDisposable
{
    public ScratchDirectory() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "popsteer-scorer-tests-" + Guid.NewGuid().ToString("N"));

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
