using System.CommandLine;
using System.Globalization;
using PopSteer.Core.Data;
using PopSteer.Core.Scoring;
using Spectre.Console;
using static TorchSharp.torch;

namespace PopSteer.Cli.Commands;

/// <summary>
/// `popsteer explain`: the neurons that encode popularity most strongly (largest |Cohen's d|) and, for each, the items
/// whose single-item users drive its pre-activation highest, with titles where the data has them.
/// </summary>
internal static class ExplainCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var neuron = new Option<int?>("--neuron") { Description = "Explain this one neuron (0-based)." };
        var top = new Option<int>("--top") { Description = "How many of the most popularity-laden neurons to list.", DefaultValueFactory = _ => 10 };
        var items = new Option<int>("--items") { Description = "Items shown per neuron.", DefaultValueFactory = _ => 5 };
        var titles = new Option<string?>("--titles") { Description = "Item title file (u.item or RecBole .item)." };
        var data = CommonOptions.Data(required: false);
        data.Description = "The data file; a u.item or .item file beside it supplies titles.";

        var command = new Command("explain", "Show the most popularity-laden SAE neurons and the items that drive them.")
        {
            model, neuron, top, items, titles, data,
        };
        command.SetAction(r =>
        {
            using var m = PopSteerModel.Load(r.GetRequiredValue(model));
            var stats = m.Neurons;
            int perNeuron = Math.Max(1, r.GetValue(items));
            int[] chosen;
            if (r.GetValue(neuron) is { } j)
            {
                if (j < 0 || j >= stats.Width) throw new ArgumentException($"--neuron: {j} is outside 0..{stats.Width - 1}.");
                chosen = [j];
            }
            else
            {
                int count = r.GetValue(top);
                if (count < 1) throw new ArgumentException("--top must be at least 1.");
                chosen = stats.ByStrength().Take(count).ToArray();
            }

            var titlePath = r.GetValue(titles) ?? (r.GetValue(data) is { } d ? ItemTitles.FindBeside(d) : null);
            var names = titlePath is null ? null : ItemTitles.Read(titlePath);

            using var z = m.SingleItemPreActivations();
            var table = new Table().Title($"Popularity neurons of model {m.Version} (d > 0: favours popular items; d < 0: the long tail)");
            table.AddColumns("neuron", "Cohen's d", "mu head / tail", "sigma head / tail", "items that drive it most (group)");
            foreach (int n in chosen)
            {
                using var column = z.select(1, n);
                var (values, indices) = column.topk(Math.Min(perNeuron, m.Items.Count));
                var driving = indices.data<long>().ToArray().Select(ix =>
                {
                    int item = (int)ix + 1;
                    var external = m.Items.ToExternal(item);
                    var label = names is not null && names.TryGetValue(external, out var t) ? t : external;
                    return $"{Markup.Escape(label)} ({m.Groups[item].ToString().ToLowerInvariant()})";
                });
                values.Dispose();
                indices.Dispose();
                table.AddRow(
                    n.ToString(CultureInfo.InvariantCulture),
                    stats.CohenD[n].ToString("+0.000;-0.000;0.000", CultureInfo.InvariantCulture),
                    $"{F(stats.MuHead[n])} / {F(stats.MuTail[n])}", $"{F(stats.SigmaHead[n])} / {F(stats.SigmaTail[n])}",
                    string.Join("\n", driving));
            }
            AnsiConsole.Write(table);
            int tailNeurons = stats.CohenD.Count(x => x < 0), headNeurons = stats.CohenD.Count(x => x > 0);
            Console.WriteLine($"{headNeurons} neurons favour popular items, {tailNeurons} the long tail (of {stats.Width}).");
            return 0;
        });
        return command;
    }

    private static string F(float x) => x.ToString("0.000", CultureInfo.InvariantCulture);
}
