/**
 * `node scripts/bundle-workflows.ts [OUT]`: bundles the workflows (src/workflows/index.ts, with
 * `bundleWorkflowCode`: webpack + swc, both dependencies of @temporalio/worker) into one file,
 * default build/workflow-bundle.js (not dist/: the library build owns and empties that). The
 * container image runs it at build time and sets WORKER_WORKFLOW_BUNDLE to the file, so
 * `rdd worker` loads it (`workflowBundle: { codePath }`) instead of bundling at every start.
 *
 * Needs only the production dependencies. The bundle takes the same workflow interceptor modules
 * and payload/failure converter paths as the worker's own options (`workerOptions()`), so a
 * prebuilt bundle and one built at start-up are the same code. Rebuild it whenever src/ changes: a
 * stale bundle runs stale workflow code.
 *
 * Exit 0 with one line naming the file and its size; 1 with the bundler's error.
 */
import { bundleWorkflowCode } from '@temporalio/worker';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { workerOptions } from '../src/client/connection.ts';
import { WORKFLOWS_PATH } from '../src/worker.ts';

const out = path.resolve(process.argv[2] ?? 'build/workflow-bundle.js');
const { dataConverter, interceptors } = workerOptions();
const workflowInterceptorModules = interceptors?.workflowModules;

const { code } = await bundleWorkflowCode({
  workflowsPath: WORKFLOWS_PATH,
  ...(workflowInterceptorModules && { workflowInterceptorModules }),
  ...(dataConverter?.payloadConverterPath && { payloadConverterPath: dataConverter.payloadConverterPath }),
  ...(dataConverter?.failureConverterPath && { failureConverterPath: dataConverter.failureConverterPath }),
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
writeFileSync(out, code);
console.log(`workflow bundle written to ${out} (${(Buffer.byteLength(code) / 1024).toFixed(0)} KiB)`);
