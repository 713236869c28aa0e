using PopSteer.Streaming.Batching;

namespace PopSteer.Streaming.Tests.Batching;

/// <summary>
/// The batching policy against arrival schedules on a virtual clock: the loop below is the workers' loop (drain,
/// then ask the policy), with a source that hands out an item only once its arrival time has come.
/// </summary>
public class DynamicBatcherTests
{
    private static readonly TimeSpan Ms = TimeSpan.FromMilliseconds(1);

    /// <summary>Runs one batch: the first item is taken when it arrives; returns (batch size, time from first item to hand-on).</summary>
    private static (int Size, TimeSpan Held) OneBatch(DynamicBatcher batcher, Queue<TimeSpan> arrivals)
    {
        var now = arrivals.Dequeue(); // the loop blocked for the first item
        var first = now;
        int count = 1;
        var previous = BatchPoll.Item;
        while (batcher.NextPoll(count, now - first, previous) is { } timeout)
        {
            Assert.True(timeout >= TimeSpan.Zero);
            bool got = arrivals.Count > 0 && arrivals.Peek() <= now + timeout;
            if (got)
            {
                now = arrivals.Peek() > now ? arrivals.Peek() : now;
                arrivals.Dequeue();
                count++;
            }
            else now += timeout;
            previous = DynamicBatcher.Outcome(got, timeout);
        }
        return (count, now - first);
    }

    private static Queue<TimeSpan> Every(TimeSpan interval, int n, TimeSpan? start = null) =>
        new(Enumerable.Range(0, n).Select(i => (start ?? TimeSpan.Zero) + interval * i));

    [Fact]
    public void A_lone_event_goes_after_one_arrival_gap_not_after_the_maximum_wait()
    {
        var batcher = new DynamicBatcher(maxBatchSize: 256, preferredBatchSize: 64, maxBatchWait: 50 * Ms, arrivalGap: Ms);
        var (size, held) = OneBatch(batcher, Every(Ms, 1));
        Assert.Equal(1, size);
        Assert.Equal(Ms, held);
    }

    [Fact]
    public void A_backlog_fills_every_batch_to_the_maximum_without_waiting()
    {
        var batcher = new DynamicBatcher(256, 64, 50 * Ms, Ms);
        var backlog = new Queue<TimeSpan>(Enumerable.Repeat(TimeSpan.Zero, 1000));
        var sizes = new List<int>();
        while (backlog.Count > 0)
        {
            var (size, held) = OneBatch(batcher, backlog);
            sizes.Add(size);
            if (backlog.Count > 0) Assert.Equal(TimeSpan.Zero, held); // full batches never wait
        }
        Assert.Equal(new[] { 256, 256, 256, 232 }, sizes);
    }

    [Fact]
    public void A_stream_faster_than_the_gap_grows_the_batch_to_its_preferred_size_then_it_goes()
    {
        var batcher = new DynamicBatcher(256, 64, 50 * Ms, Ms);
        var stream = Every(Ms / 4, 500);
        var (size, held) = OneBatch(batcher, stream);
        Assert.Equal(64, size);
        Assert.Equal(63 * (Ms / 4), held);
        Assert.Equal(500 - 64, stream.Count);
    }

    [Fact]
    public void A_stream_slower_than_the_gap_is_scored_event_by_event_each_within_one_gap()
    {
        var batcher = new DynamicBatcher(256, 64, 50 * Ms, Ms);
        var stream = Every(3 * Ms, 20);
        while (stream.Count > 0)
        {
            var (size, held) = OneBatch(batcher, stream);
            Assert.Equal(1, size);
            Assert.Equal(Ms, held);
        }
    }

    [Fact]
    public void The_maximum_wait_bounds_a_batch_that_keeps_receiving_below_its_preferred_size()
    {
        var batcher = new DynamicBatcher(1000, 1000, 10 * Ms, Ms);
        var (size, held) = OneBatch(batcher, Every(Ms / 2, 1000));
        Assert.True(held <= 10 * Ms, $"held {held}");
        Assert.Equal(21, size); // items at 0, 0.5, ..., 10 ms
    }

    [Fact]
    public void A_burst_followed_by_silence_goes_one_gap_after_the_burst()
    {
        var batcher = new DynamicBatcher(256, 64, 50 * Ms, 2 * Ms);
        var burst = new Queue<TimeSpan>(Enumerable.Repeat(TimeSpan.Zero, 10).Append(TimeSpan.FromSeconds(1)));
        var (size, held) = OneBatch(batcher, burst);
        Assert.Equal(10, size);
        Assert.Equal(2 * Ms, held);
    }

    [Fact]
    public void A_zero_gap_never_waits_once_drained()
    {
        var batcher = new DynamicBatcher(256, 64, 50 * Ms, TimeSpan.Zero);
        Assert.Null(batcher.NextPoll(1, TimeSpan.Zero, BatchPoll.Drained));
        Assert.Equal(TimeSpan.Zero, batcher.NextPoll(1, TimeSpan.Zero, BatchPoll.Item));
    }

    [Fact]
    public void Outcomes_and_bounds()
    {
        Assert.Equal(BatchPoll.Item, DynamicBatcher.Outcome(true, Ms));
        Assert.Equal(BatchPoll.Drained, DynamicBatcher.Outcome(false, TimeSpan.Zero));
        Assert.Equal(BatchPoll.Quiet, DynamicBatcher.Outcome(false, Ms));
        var batcher = new DynamicBatcher(8, 100, 5 * Ms, 2 * Ms);
        Assert.Equal(8, batcher.PreferredBatchSize); // a preferred size above the maximum means the maximum
        Assert.Null(batcher.NextPoll(8, TimeSpan.Zero, BatchPoll.Item));
        Assert.Null(batcher.NextPoll(1, 5 * Ms, BatchPoll.Item));
        Assert.Equal(Ms, batcher.NextPoll(1, 4 * Ms, BatchPoll.Drained)); // the gap never runs past the maximum wait
        Assert.Throws<ArgumentOutOfRangeException>(() => new DynamicBatcher(0, 1, Ms, Ms));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DynamicBatcher(1, 1, -Ms, Ms));
    }
}
