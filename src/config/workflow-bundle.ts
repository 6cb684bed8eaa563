/**
 * What a prebuilt workflow bundle (WORKER_WORKFLOW_BUNDLE, written by scripts/bundle-workflows.ts)
 * was built for, and the start-up check that it fits the worker's encryption settings.
 *
 * Workflow code raises failures through the failure converter compiled into its bundle: with
 * encryption (RDD_ENCRYPTION_KEYS / RDD_ENCRYPTION_KEYS_FILE) that must be the encoded failure
 * converter, or failure messages and stack traces raised by workflow code land in the history in
 * clear text; without encryption it must be the default one, or the history shows only "Encoded
 * failure" to everyone. The bundler writes which one it compiled in as a marker at the very start of
 * the file (`/* rdd-workflow-bundle {"encodedFailures":true} *\/`, no line break, so line numbers in
 * stack traces stay right); the worker's configuration loader compares it with the keys. Never
 * imported by workflows.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { z } from 'zod';

/** What the bundler records about a bundle. */
export interface WorkflowBundleMarker {
  /** Built with the encoded failure converter (for a worker with encryption keys). */
  encodedFailures: boolean;
}

const MARKER = /^\/\* rdd-workflow-bundle (\{[^*]*\}) \*\//;

/**
 * The marker to put in front of a bundle's code. Pure.
 * @example workflowBundleMarker({ encodedFailures: true }) // '/* rdd-workflow-bundle {"encodedFailures":true} *\/'
 */
export function workflowBundleMarker(marker: WorkflowBundleMarker): string {
  return `/* rdd-workflow-bundle ${JSON.stringify({ encodedFailures: marker.encodedFailures })} */`;
}

/**
 * The marker at the start of `code`, or undefined when there is none (a bundle not written by
 * scripts/bundle-workflows.ts, or by a version before the marker). Pure.
 * @example readWorkflowBundleMarker('/* rdd-workflow-bundle {"encodedFailures":false} *\/var a') // { encodedFailures: false }
 */
export function readWorkflowBundleMarker(code: string): WorkflowBundleMarker | undefined {
  const match = MARKER.exec(code);
  if (!match?.[1]) return undefined;
  try {
    const parsed = JSON.parse(match[1]) as { encodedFailures?: unknown };
    return typeof parsed.encodedFailures === 'boolean'
      ? { encodedFailures: parsed.encodedFailures }
      : undefined;
  } catch {
    return undefined;
  }
}

/** The first bytes of a file (the marker is short), or undefined when it cannot be read. */
function head(file: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const buffer = Buffer.alloc(256);
    const read = readSync(fd, buffer, 0, buffer.length, 0);
    return buffer.subarray(0, read).toString('utf8');
  } catch {
    return undefined; // WORKER_WORKFLOW_BUNDLE's own check reports an unreadable file
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * The problem with running the bundle at `file` under the given encryption setting, or undefined
 * when it fits (or the file cannot be read: that is reported on its own). Reads the file's first
 * bytes. The message says how to fix it: rebuild with or without `--encoded-failures`, or unset
 * WORKER_WORKFLOW_BUNDLE so the worker bundles at start-up (a few seconds).
 * @example workflowBundleProblem('/app/build/workflow-bundle.js', true) // 'was built without --encoded-failures …'
 */
export function workflowBundleProblem(file: string, encrypted: boolean): string | undefined {
  const code = head(file);
  if (code === undefined) return undefined;
  const marker = readWorkflowBundleMarker(code);
  const fix =
    `rebuild it with \`node scripts/bundle-workflows.ts${encrypted ? ' --encoded-failures' : ''} ${file}\`` +
    ', or unset WORKER_WORKFLOW_BUNDLE to bundle the workflows at start-up';
  if (marker === undefined) {
    return `${file} was not built by scripts/bundle-workflows.ts (no rdd-workflow-bundle marker at its start): ${fix}`;
  }
  if (marker.encodedFailures === encrypted) return undefined;
  return encrypted
    ? `${file} was built without --encoded-failures, but RDD_ENCRYPTION_KEYS (or _FILE) is set: failures raised ` +
        `by workflow code would reach the history unencrypted; ${fix}`
    : `${file} was built with --encoded-failures, but neither RDD_ENCRYPTION_KEYS nor RDD_ENCRYPTION_KEYS_FILE ` +
        `is set: failures raised by workflow code would show only "Encoded failure"; ${fix}`;
}

/**
 * The start-up check as a schema for `readVariables`: WORKER_WORKFLOW_BUNDLE, when set, must have
 * been built for the encryption setting of RDD_ENCRYPTION_KEYS / RDD_ENCRYPTION_KEYS_FILE (set and not
 * blank = encrypted, as `loadEncryptionConfig` decides). Output: the marker, or undefined.
 * @example readVariables(env, [workerVariables, workflowBundleVariables])
 */
export const workflowBundleVariables = z
  .object({
    WORKER_WORKFLOW_BUNDLE: z.string().optional(),
    RDD_ENCRYPTION_KEYS: z.string().optional(),
    RDD_ENCRYPTION_KEYS_FILE: z.string().optional(),
  })
  .transform((vars, ctx): WorkflowBundleMarker | undefined => {
    const given = vars.WORKER_WORKFLOW_BUNDLE?.trim();
    if (!given) return undefined;
    const file = resolvePath(given);
    const encrypted = Boolean(vars.RDD_ENCRYPTION_KEYS?.trim() || vars.RDD_ENCRYPTION_KEYS_FILE?.trim());
    const problem = workflowBundleProblem(file, encrypted);
    if (problem !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['WORKER_WORKFLOW_BUNDLE'], message: problem });
      return z.NEVER;
    }
    return { encodedFailures: encrypted };
  });
