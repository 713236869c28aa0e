using System.Diagnostics;
using PopSteer.Bench;

// Speed and fidelity measurements, never unit tests. Modes:
//   scoring [--model DIR] [--batches 1,64,256]    steered scoring throughput (builds an ML-1M-sized random model when no DIR)
//   kernels                                       the managed small-batch matmul at SASRec shapes, vs one-thread sgemm
//   peak                                          the machine's sgemm GFLOP/s now, at --threads
//   fit --data PATH [--out DIR] [--epochs E] ...  runs PopSteerFitter, reports stage times and test metrics vs MostPop
//   synthetic --users U --items I --interactions N [--epochs E]  generates data, then as fit
//         (fit and synthetic also take --min-epochs, --patience, --warmup W, --cooldown C, --cosine, --lr for SASRec's schedule)
//   train-profile [--users U --items I --interactions N | --data PATH] [--epochs E] [--sae-epochs S] [--sae-batch B]  where a training
//         epoch's time goes (SASRec and SAE), beside the same-run sgemm peak; the per-epoch lines are learning curves;
//         --sae-inputs FILE caches the SAE's inputs (a later run skips SASRec), --autograd-sae times the autograd SAE step
//   drift [--users U --items I --interactions N --drift-at 0.3 --refit-at 0.5 --alpha 1.5]  stale model vs the
//         Retrainer's refits after the demo's drift scenario: tail share, Gini@10, NDCG@10 (DriftBench.cs)
var mode = args.Length > 0 ? args[0] : "scoring";
var opts = Args.Parse(args.Skip(1).ToArray());
PopSteer.Core.TorchRuntime.ConfigureThreads(opts.Int("threads", 0));
var clock = Stopwatch.StartNew();
int rc = mode switch
{
    "scoring" => ScoringBench.Run(opts),
    "fit" => FitBench.Run(opts),
    "synthetic" => FitBench.RunSynthetic(opts),
    "drift" => DriftBench.Run(opts),
    "windows" => WindowsBench.Run(opts),
    "peak" => PrintPeak(),
    "profile" => ProfileBench.Run(opts),
    "train-profile" => TrainProfileBench.Run(opts),
    "train-ops" => TrainOpsBench.Run(opts),
    "ops" => OpOverheadBench.Run(opts),
    "kernels" => KernelBench.Run(opts),
    _ => Args.Usage(mode),
};
Console.WriteLine($"total wall time {clock.Elapsed}");
return rc;

static int PrintPeak()
{
    Console.WriteLine(PopSteer.BenchShared.SgemmPeak.Describe(PopSteer.BenchShared.SgemmPeak.Measure(seconds: 2)));
    return 0;
}
