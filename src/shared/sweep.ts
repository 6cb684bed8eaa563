/**
 * The contract of the sweep for lost S3 events: `sweepWorkflow` input and the payload of its
 * activity `listSweepPage`. Wire contracts with running sweeps: fields are only ever added,
 * optional. Importable from workflows: no Node, no I/O.
 */
import type { EventRule } from './event-rules.ts';

/** The workflow type of the sweep (the exported function `sweepWorkflow` in src/workflows). */
export const SWEEP_WORKFLOW_TYPE = 'sweepWorkflow';

/** Defaults of a sweep. */
export const SWEEP_DEFAULTS = {
  /** Objects listed per page (one activity call). */
  pageSize: 200,
  /** Pages per run before continue-as-new, so the history stays small. */
  continueAsNewEvery: 50,
} as const;

/** What a sweep (or one page of it) did, counted per listed object. */
export interface SweepCounts {
  /** Objects listed (folders and the like not included). */
  listed: number;
  /** Objects no rule maps to a reference. */
  ignored: number;
  /** Matching objects whose result document already exists: left alone. */
  scored: number;
  /** Matching objects whose detection already exists (running, or ended without a result): left alone. */
  existing: number;
  /** Detections started for objects whose event was lost. */
  started: number;
  /** Matching objects that cannot be detected as named (e.g. a reference key S3 would refuse). */
  invalid: number;
}

/** Input of `sweepWorkflow`. */
export interface SweepInput {
  /** The bucket to list. */
  bucket: string;
  /** Key prefix to list ('' for the whole bucket). */
  prefix: string;
  /** The same rules `POST /v1/s3-events` uses (checked by the workflow first). */
  rules: EventRule[];
  /** Default SWEEP_DEFAULTS.pageSize (1–1000). */
  pageSize?: number;
  /** Default SWEEP_DEFAULTS.continueAsNewEvery. */
  continueAsNewEvery?: number;
  /** Carried across continue-as-new; absent on the first run. */
  state?: { cursor: string; counts: SweepCounts; pages: number };
}

/** Input of `listSweepPage`. */
export interface ListSweepPageInput {
  bucket: string;
  prefix: string;
  rules: EventRule[];
  /** ListObjectsV2 continuation token; null for the first page. */
  cursor: string | null;
  pageSize: number;
}

/** Result of `listSweepPage`. */
export interface SweepPage {
  counts: SweepCounts;
  /** Workflow ids of the detections this page started. */
  startedIds: string[];
  /** null after the last page. */
  nextCursor: string | null;
}

/** Result of `sweepWorkflow`: totals over every page. */
export interface SweepSummary {
  counts: SweepCounts;
  pages: number;
}
