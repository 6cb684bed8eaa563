/**
 * Peak memory of the current process while something runs: a garbage-collected baseline, then
 * `process.memoryUsage()` sampled every few milliseconds. Growth is peak minus baseline, so it
 * shows what the measured work held at its worst, not what the process already had.
 */

const MIB = 1024 * 1024;

/** Memory figures of one measurement, in MiB. */
export interface MemoryReport {
  /** RSS after GC, just before the measured work. */
  baseRssMib: number;
  peakRssMib: number;
  /** Peak RSS minus the baseline. */
  rssGrowthMib: number;
  /** Peak `arrayBuffers` (Buffers and other off-heap byte arrays) minus the baseline. */
  arrayBuffersGrowthMib: number;
  /** Peak V8 `heapUsed` minus the baseline. */
  heapGrowthMib: number;
  samples: number;
}

/** A running sampler; `stop()` ends sampling and reports. */
export interface MemorySampler {
  stop(): MemoryReport;
}

/**
 * Runs a full GC when the process was started with `--expose-gc` (the bench's children are), so
 * the baseline does not carry garbage of an earlier case.
 * @example collectGarbage(); const before = process.memoryUsage();
 */
export async function collectGarbage(): Promise<void> {
  const gc = globalThis.gc;
  if (typeof gc !== 'function') return;
  gc();
  // Let finalisers of freed Buffers run, then collect what they released.
  await new Promise((resolve) => setImmediate(resolve));
  gc();
}

/**
 * GCs, takes the baseline and starts sampling every `intervalMs`. The interval is unref'd.
 * @example const sampler = await startMemorySampler(); await work(); const mem = sampler.stop();
 */
export async function startMemorySampler(intervalMs = 5): Promise<MemorySampler> {
  await collectGarbage();
  const base = process.memoryUsage();
  const peak = { rss: base.rss, arrayBuffers: base.arrayBuffers, heapUsed: base.heapUsed };
  let samples = 0;
  const sample = (): void => {
    const now = process.memoryUsage();
    samples += 1;
    if (now.rss > peak.rss) peak.rss = now.rss;
    if (now.arrayBuffers > peak.arrayBuffers) peak.arrayBuffers = now.arrayBuffers;
    if (now.heapUsed > peak.heapUsed) peak.heapUsed = now.heapUsed;
  };
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      sample();
      return {
        baseRssMib: base.rss / MIB,
        peakRssMib: peak.rss / MIB,
        rssGrowthMib: (peak.rss - base.rss) / MIB,
        arrayBuffersGrowthMib: (peak.arrayBuffers - base.arrayBuffers) / MIB,
        heapGrowthMib: (peak.heapUsed - base.heapUsed) / MIB,
        samples,
      };
    },
  };
}

/** Bytes reachable during some work, in MiB (see startLiveSampler). */
export interface LiveReport {
  /** Median of the samples: what the work typically holds. */
  p50Mib: number;
  samples: number;
}

/**
 * Samples the `arrayBuffers` that are still reachable: a full GC before every sample, so garbage
 * is not counted. It slows the work down, so use it in an extra, untimed run. The median is
 * reported because V8 may release backing stores on a background thread after the GC: a sample now
 * and then still counts buffers that were already dead.
 * @example const live = await startLiveSampler(); await work(); const { p50Mib } = await live.stop();
 */
export async function startLiveSampler(intervalMs = 20): Promise<{ stop(): Promise<LiveReport> }> {
  await collectGarbage();
  const base = process.memoryUsage().arrayBuffers;
  const samples: number[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
      if (stopped) break;
      await collectGarbage();
      samples.push(process.memoryUsage().arrayBuffers - base);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      samples.sort((a, b) => a - b);
      const p50 = samples.length > 0 ? samples[Math.floor(samples.length / 2)]! : NaN;
      return { p50Mib: p50 / MIB, samples: samples.length };
    },
  };
}

/** CPU seconds (user + system) of this process since `since`. */
export function cpuSecondsSince(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
}
