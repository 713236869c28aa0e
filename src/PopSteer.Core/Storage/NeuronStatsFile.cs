using System.Text;
using PopSteer.Core.Steering;

namespace PopSteer.Core.Storage;

/// <summary>neurons.bin: magic, version, width, then mu_head, mu_tail, sigma_head, sigma_tail, d as little-endian float32.</summary>
public static class NeuronStatsFile
{
    private const string Magic = "PSNEURON";
    private const int Version = 1;

    public static void Write(string path, NeuronStats stats)
    {
        using var stream = File.Create(path);
        using var w = new BinaryWriter(stream, Encoding.ASCII);
        w.Write(Encoding.ASCII.GetBytes(Magic));
        w.Write(Version);
        w.Write(stats.Width);
        foreach (var a in new[] { stats.MuHead, stats.MuTail, stats.SigmaHead, stats.SigmaTail, stats.CohenD })
            foreach (var x in a) w.Write(x);
    }

    public static NeuronStats Read(string path, int expectedWidth)
    {
        try
        {
            using var stream = File.OpenRead(path);
            using var r = new BinaryReader(stream, Encoding.ASCII);
            if (Encoding.ASCII.GetString(r.ReadBytes(Magic.Length)) != Magic) throw new ModelFormatException(path, "not a neuron statistics file");
            int version = r.ReadInt32();
            if (version != Version) throw new ModelFormatException(path, $"neuron statistics format {version}, expected {Version}");
            int width = r.ReadInt32();
            if (width != expectedWidth) throw new ModelFormatException(path, $"holds {width} neurons but the SAE has {expectedWidth}");
            // Five float32 arrays of `width` follow the 16-byte header: check before allocating them.
            if (stream.Length != 16 + 20L * width) throw new ModelFormatException(path, $"is {stream.Length} bytes; {width} neurons need {16 + 20L * width}");
            float[] Next() { var a = new float[width]; for (int i = 0; i < width; i++) a[i] = r.ReadSingle(); return a; }
            var stats = new NeuronStats(Next(), Next(), Next(), Next(), Next());
            if (stream.Position != stream.Length) throw new ModelFormatException(path, "has trailing bytes");
            return stats;
        }
        catch (EndOfStreamException e)
        {
            throw new ModelFormatException($"{path}: truncated neuron statistics file", e);
        }
    }
}
