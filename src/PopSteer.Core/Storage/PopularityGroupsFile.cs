using System.Text.Json;
using PopSteer.Core.Data;

namespace PopSteer.Core.Storage;

/// <summary>groups.json: the training-target counts c_i, the head/tail share and each item's group (H, M, T per internal id, index 0 padding).</summary>
public static class PopularityGroupsFile
{
    private sealed record Dto(double Share, long[] Counts, string Groups);

    public static void Write(string path, PopularityGroups groups)
    {
        var letters = new string(groups.Groups.Select(g => g switch { PopularityGroup.Head => 'H', PopularityGroup.Tail => 'T', _ => 'M' }).ToArray());
        File.WriteAllText(path, JsonSerializer.Serialize(new Dto(groups.Share, groups.Counts, letters), ModelDirectory.Json));
    }

    public static PopularityGroups Read(string path, int itemCount)
    {
        Dto? dto;
        try { dto = JsonSerializer.Deserialize<Dto>(File.ReadAllText(path), ModelDirectory.Json); }
        catch (JsonException e) { throw new ModelFormatException($"{path}: invalid JSON ({e.Message})", e); }
        if (dto is null || dto.Counts is null || dto.Groups is null) throw new ModelFormatException(path, "missing counts or groups");
        if (dto.Counts.Length != itemCount + 1 || dto.Groups.Length != itemCount + 1)
            throw new ModelFormatException(path, $"describes {dto.Counts.Length - 1} items but the model has {itemCount}");
        var groups = dto.Groups.Select(c => c switch
        {
            'H' => PopularityGroup.Head,
            'T' => PopularityGroup.Tail,
            'M' => PopularityGroup.Mid,
            _ => throw new ModelFormatException(path, $"unknown group letter '{c}'"),
        }).ToArray();
        return new PopularityGroups(dto.Counts, groups, dto.Share);
    }
}
