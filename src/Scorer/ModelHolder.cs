using Microsoft.Extensions.Logging;

namespace PopSteer.Scorer;

/// <summary>
/// Hands the scoring loop one model per batch. The model watcher <see cref="Offer"/>s a newly loaded version from its
/// own thread; the loop picks it up only at the start of a batch (<see cref="AcquireForBatch"/>), so a batch never
/// mixes versions and a swap never interrupts a request: the old version keeps serving until the new one is ready.
/// </summary>
public sealed class ModelHolder(ILogger<ModelHolder> logger) : IDisposable
{
    private readonly TaskCompletionSource _firstModel = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ServingModel? _pending;
    private ServingModel? _serving; // touched by the loop thread only
    private volatile string? _servingVersion;
    private int _swaps;

    /// <summary>Raised on the loop thread right after a swap (old version, new version; old is null at start).</summary>
    public event Action<string?, string>? Swapped;

    /// <summary>The version the last batch was scored with (null before the first batch).</summary>
    public string? ServingVersion => _servingVersion;

    /// <summary>Number of swaps after the first model (for metrics and tests).</summary>
    public int Swaps => Volatile.Read(ref _swaps);

    /// <summary>Called by the watcher with a verified, loaded version; replaces any version not yet picked up.</summary>
    public void Offer(ServingModel model)
    {
        var unused = Interlocked.Exchange(ref _pending, model);
        unused?.Dispose(); // never reached the loop, so nobody else holds it
        _firstModel.TrySetResult();
    }

    /// <summary>Completes once a first model has been offered.</summary>
    public Task WaitForFirstModelAsync(CancellationToken cancellationToken) => _firstModel.Task.WaitAsync(cancellationToken);

    /// <summary>True while a newly offered version waits to be picked up by <see cref="AcquireForBatch"/>.</summary>
    public bool SwapWaiting => Volatile.Read(ref _pending) is not null;

    /// <summary>
    /// Called by the loop before each batch: the model this whole batch is scored with. A waiting version is swapped in
    /// (and the old one disposed) only when <paramref name="swap"/> is true: the loop passes false while another batch
    /// is still being scored with the serving version, and the swap waits for a batch that starts alone.
    /// </summary>
    public ServingModel AcquireForBatch(bool swap = true)
    {
        if (!swap && _serving is not null) return _serving;
        var next = Interlocked.Exchange(ref _pending, null);
        if (next is not null)
        {
            var old = _serving;
            _serving = next;
            _servingVersion = next.Version;
            if (old is not null)
            {
                Interlocked.Increment(ref _swaps);
                logger.LogInformation("Model swapped between batches: {Old} -> {New}", old.Version, next.Version);
            }
            Swapped?.Invoke(old?.Version, next.Version);
            old?.Dispose(); // every batch scored with it has finished (swap is true only then): the loop is its only user
        }
        return _serving ?? throw new InvalidOperationException("No model has been loaded yet.");
    }

    public void Dispose()
    {
        Interlocked.Exchange(ref _pending, null)?.Dispose();
        _serving?.Dispose();
        _serving = null;
    }
}
