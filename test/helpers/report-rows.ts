/**
 * Synthetic batch report rows for the report tests: a seeded, labelled batch (genuine scores
 * around −3, deepfake around +3, some unlabelled, failed and inconclusive rows), the same on
 * every run.
 */
import { mulberry32 } from '../../dev/emulator/faults.ts';
import type { BatchReportRow } from '../../src/reports/types.ts';

/** How `syntheticReportRows` names and times row `i` (0-based) of `n`. */
export interface SyntheticRowsShape {
  /** PRNG seed; default 7. */
  seed?: number;
  id: (i: number) => string;
  workflowId: (i: number) => string;
  /** Default `s3://calls/call-<i>.wav`. */
  questioned?: (i: number) => string;
  /** An error type forced on row `i` instead of the random ~3 % (no random draw then). */
  forcedError?: (i: number) => string | undefined;
  errorMessage: (i: number, errorType: string) => string;
  /** `jitter` is a fresh draw in [0, 1). */
  completedAt: (i: number, n: number, jitter: number) => string;
}

/**
 * `n` rows of a labelled batch: 55 % genuine (score −3 + 1.8·N(0,1)), 40 % deepfake
 * (3 + 2.2·N(0,1)), 5 % unlabelled (4·N(0,1)); ~3 % failed (MediaNotFound or
 * DetectorRejectedInput, no score), ~2 % inconclusive (null score), ~10 % cached; verdict at
 * threshold 0; every third questioned recording on channel 1. Pure and deterministic per seed
 * (the draw order is part of the contract: golden figures depend on it).
 * @example syntheticReportRows(50, { id: (i) => `call-${i}`, workflowId: (i) => `b1-${i}`, errorMessage: (_, t) => t, completedAt: () => '2025-03-01T22:00:00.000Z' })
 */
export function syntheticReportRows(n: number, shape: SyntheticRowsShape): BatchReportRow[] {
  const r = mulberry32(shape.seed ?? 7);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  return Array.from({ length: n }, (_, i): BatchReportRow => {
    const u = r();
    const label = u < 0.55 ? 'genuine' : u < 0.95 ? 'deepfake' : null;
    const errorType =
      shape.forcedError?.(i) ?? (r() < 0.03 ? (r() < 0.6 ? 'MediaNotFound' : 'DetectorRejectedInput') : null);
    const score =
      errorType !== null || r() < 0.02
        ? null
        : label === 'deepfake'
          ? 3 + 2.2 * gauss()
          : label === 'genuine'
            ? -3 + 1.8 * gauss()
            : 4 * gauss();
    return {
      line: i + 2,
      id: shape.id(i),
      workflowId: shape.workflowId(i),
      reference: `s3://media/enrolled/speaker-${i % 40}.wav`,
      referenceChannel: null,
      questioned: shape.questioned?.(i) ?? `s3://calls/call-${i}.wav`,
      questionedChannel: i % 3 === 0 ? 1 : null,
      label,
      score,
      verdict: errorType ? null : score === null ? 'inconclusive' : score > 0 ? 'deepfake' : 'genuine',
      threshold: 0,
      errorType,
      errorMessage: errorType ? shape.errorMessage(i, errorType) : null,
      cached: r() < 0.1,
      duplicateOf: null,
      completedAt: shape.completedAt(i, n, r()),
    };
  });
}
