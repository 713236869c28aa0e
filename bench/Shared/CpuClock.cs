using System.Runtime.InteropServices;

namespace PopSteer.BenchShared;

/// <summary>
/// CPU seconds spent by the calling thread (Linux CLOCK_THREAD_CPUTIME_ID). On a machine whose cores are shared,
/// wall time measures the queue for a core as much as the code; a rate per CPU second of a one-thread run does not,
/// so the benches print it beside the wall-clock rate. With one intra-op thread libtorch runs every op inline on
/// the calling thread, so this clock sees all of the model's work.
/// </summary>
public static class CpuClock
{
    private const int ThreadCpuTimeId = 3;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    public static double ThreadSeconds() =>
        ClockGetTime(ThreadCpuTimeId, out var t) == 0 ? t.Seconds + t.Nanoseconds / 1e9 : double.NaN;
}
