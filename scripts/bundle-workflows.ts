/**
 * `node scripts/bundle-workflows.ts [--encoded-failures] [OUT]`: bundles the workflows
 * (src/workflows/index.ts, with `bundleWorkflowCode`: webpack + swc, both dependencies of
 * @temporalio/worker) into one file, default build/workflow-bundle.js (not dist/: the library build
 * owns and empties that). The container image runs it at build time and sets WORKER_WORKFLOW_BUNDLE
 * to the file, so `rdd worker` loads it (`workflowBundle: { codePath }`) instead of bundling at
 * every start.
 *
 * Encryption: workflow code raises failures through the failure converter compiled into the
 * bundle. `--encoded-failures` compiles in the encoded failure converter that a worker with
 * RDD_ENCRYPTION_KEYS (or _FILE) needs, so failure messages are encrypted too; no key is needed to
 * build (the converter only moves message and stack into a payload; the worker's codec encrypts
 * it). Without the flag the bundle is for a worker without keys — unless RDD_ENCRYPTION_KEYS or
 * RDD_ENCRYPTION_KEYS_FILE is set here, which implies the flag as before. The choice is written as a
 * marker at the start of the file (src/config/workflow-bundle.ts), and `rdd worker` refuses a bundle
 * built for the other setting at start-up (exit 2) rather than leak failure messages.
 *
 * Needs only the production dependencies. Takes the same workflow interceptor modules and payload
 * converter path as the worker's own options (`workerOptions()`), so a prebuilt bundle and one
 * built at start-up are the same code. Rebuild it whenever src/ changes: a stale bundle runs stale
 * workflow code.
 *
 * Exit 0 with one line naming the file, its size and its failure converter; 1 with the bundler's
 * error; 2 with an unknown option.
 */
import { bundleWorkflowCode } from '@temporalio/worker';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ENCODED_FAILURE_CONVERTER_PATH, workerOptions } from '../src/client/connection.ts';
import { workflowBundleMarker } from '../src/config/workflow-bundle.ts';
import { WORKFLOWS_PATH } from '../src/worker.ts';

let args: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    allowPositionals: true,
    options: { 'encoded-failures': { type: 'boolean', default: false } },
  });
}
try {
  args = parse();
} catch (err) {
  console.error(`bundle-workflows: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(2);
}
const out = path.resolve(args.positionals[0] ?? 'build/workflow-bundle.js');
const { dataConverter, interceptors } = workerOptions();
const encodedFailures =
  args.values['encoded-failures'] === true || dataConverter?.failureConverterPath !== undefined;
const workflowInterceptorModules = interceptors?.workflowModules;

const { code } = await bundleWorkflowCode({
  workflowsPath: WORKFLOWS_PATH,
  ...(workflowInterceptorModules && { workflowInterceptorModules }),
  ...(dataConverter?.payloadConverterPath && { payloadConverterPath: dataConverter.payloadConverterPath }),
  ...(encodedFailures && { failureConverterPath: ENCODED_FAILURE_CONVERTER_PATH }),
  // webpack's progress lines are noise in an image build; its errors still fail the build.
  logger: {
    log() {},
    trace() {},
    debug() {},
    info() {},
    warn: (message, meta) => console.error(message, meta ?? ''),
    error: (message, meta) => console.error(message, meta ?? ''),
  },
});
mkdirSync(path.dirname(out), { recursive: true });
// The marker goes in front without a line break, so the bundle's line numbers do not move.
const bundle = workflowBundleMarker({ encodedFailures }) + code;
writeFileSync(out, bundle);
console.log(
  `workflow bundle written to ${out} (${(Buffer.byteLength(bundle) / 1024).toFixed(0)} KiB, ` +
    `${encodedFailures ? 'encoded failures: for a worker with RDD_ENCRYPTION_KEYS' : 'plain failures: for a worker without encryption keys'})`,
);
