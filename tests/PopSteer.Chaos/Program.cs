using System.CommandLine;
using PopSteer.Chaos;

// scripts/chaos.sh runs this; docs/chaos.md says what each fault is and how the table is read.
var root = new RootCommand("The chaos drill: the real services as OS processes under a seeded fault schedule, checked against ground truth.");
var duration = new Option<int>("--duration") { Description = "Seconds of replay and faults.", DefaultValueFactory = _ => 120 };
var seed = new Option<int>("--seed") { Description = "Seeds the event set, the fault schedule and the alpha values.", DefaultValueFactory = _ => 1 };
var users = new Option<int>("--users") { Description = "Users replayed.", DefaultValueFactory = _ => 300 };
var events = new Option<int>("--events-per-user") { Description = "Events per user.", DefaultValueFactory = _ => 10 };
var faults = new Option<string[]>("--faults") { Description = $"Faults to inject (default all): {string.Join(", ", Faults.All)}.", AllowMultipleArgumentsPerToken = true };
var skip = new Option<string[]>("--skip") { Description = "Faults to leave out.", AllowMultipleArgumentsPerToken = true };
var model = new Option<string?>("--model") { Description = "Model directory to publish (with --data); default: fit one with `popsteer fit` (cached)." };
var data = new Option<string?>("--data") { Description = "Interaction file replayed (default: `popsteer generate`, seeded)." };
var work = new Option<string?>("--work") { Description = "Directory for logs, Redis AOF and config (default: a new temp directory)." };
var repo = new Option<string?>("--repo") { Description = "Repository root (default: found from the current directory)." };
var env = new Option<string[]>("--service-env") { Description = "KEY=VALUE added to every service's environment (repeatable).", AllowMultipleArgumentsPerToken = true };
var publishArgs = new Option<string[]>("--publish-arg") { Description = "Extra argument to `popsteer publish` (repeatable).", AllowMultipleArgumentsPerToken = true };
var scorers = new Option<int>("--scorers") { Description = "Scorer processes (one consumer group).", DefaultValueFactory = _ => 2 };
var ingests = new Option<int>("--ingests") { Description = "Ingest processes (one consumer group).", DefaultValueFactory = _ => 2 };
var noFaults = new Option<bool>("--no-faults") { Description = "Inject nothing and make no alpha edits: the multi-process load run (bench/load-run.sh)." };
var noRetrainer = new Option<bool>("--no-retrainer") { Description = "Run without the Retrainer process." };
var drain = new Option<int>("--drain-timeout") { Description = "Seconds to wait for the pipeline to catch up after the replay.", DefaultValueFactory = _ => 120 };
foreach (var o in new Option[] { duration, seed, users, events, faults, skip, model, data, work, repo, env, publishArgs, drain, scorers, ingests, noFaults, noRetrainer }) root.Options.Add(o);

root.SetAction(async (r, ct) =>
{
    var chosen = (r.GetValue(faults) is { Length: > 0 } f ? f.Select(k => Enum.Parse<FaultKind>(k, ignoreCase: true)) : Faults.All)
        .Except((r.GetValue(skip) ?? []).Select(k => Enum.Parse<FaultKind>(k, ignoreCase: true))).ToHashSet();
    if (r.GetValue(noFaults)) chosen.Clear();
    if (r.GetValue(scorers) < 1 || r.GetValue(ingests) < 1)
    {
        Console.Error.WriteLine("--scorers and --ingests must be at least 1.");
        return 2;
    }
    var options = new DrillOptions
    {
        Seed = r.GetValue(seed),
        Duration = TimeSpan.FromSeconds(r.GetValue(duration)),
        DrainTimeout = TimeSpan.FromSeconds(r.GetValue(drain)),
        Users = r.GetValue(users),
        EventsPerUser = r.GetValue(events),
        Faults = chosen,
        ModelDirectory = r.GetValue(model),
        DataFile = r.GetValue(data),
        WorkDirectory = r.GetValue(work),
        RepositoryRoot = r.GetValue(repo),
        ServiceEnvironment = (r.GetValue(env) ?? []).Select(kv => kv.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv.Length > 1 ? kv[1] : ""),
        PublishArguments = r.GetValue(publishArgs) ?? [],
        ScorerReplicas = r.GetValue(scorers),
        IngestReplicas = r.GetValue(ingests),
        Retrainer = !r.GetValue(noRetrainer),
        AlphaEdits = r.GetValue(noFaults) ? 0 : 2,
    };
    var report = await new ChaosDrill(options, Console.Out).RunAsync(ct);
    Console.WriteLine();
    Console.WriteLine(report.Render());
    return report.Passed ? 0 : 1;
});
return await root.Parse(args).InvokeAsync();
