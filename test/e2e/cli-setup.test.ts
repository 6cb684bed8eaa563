/**
 * `rdd setup` as an operator runs it, a child process of `rdd` against a Temporal dev server of the
 * test's own started WITHOUT our search attributes (a bare cluster): it creates the namespace,
 * registers every attribute of src/shared/search-attributes.ts with its type, and a workflow can
 * then be started with them and found by a query on them; a second run changes nothing; a name
 * already registered with another type is exit 2 and leaves the namespace unchanged. And the
 * embedded stack's dev server (the test run's shared one) has them all from its flags.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DetectionScore, DetectionVerdict, SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes.ts';
import { ownTemporal, type OwnTemporal } from '../helpers/own-temporal.ts';
import { testServices } from '../helpers/services.ts';

const RDD = fileURLToPath(new URL('../../src/starters/rdd.ts', import.meta.url));
const { IndexedValueType } = temporal.api.enums.v1;

let server: OwnTemporal;
let connection: Connection;
/** The children's working directory: empty, so no `.stack/env` of a running dev stack leaks in. */
let cwd: string;

beforeAll(async () => {
  server = await ownTemporal({ searchAttributes: false });
  connection = await Connection.connect({ address: server.address });
  cwd = mkdtempSync(path.join(tmpdir(), 'rdd-cli-setup-'));
}, 120_000);

afterAll(async () => {
  await connection?.close();
  await server?.close();
  if (cwd) rmSync(cwd, { recursive: true, force: true });
});

/** Runs `rdd setup …args` against the test's server with `namespace`. */
function rddSetup(
  namespace: string,
  args: string[] = [],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) {
      if (value !== undefined && !key.startsWith('TEMPORAL_')) env[key] = value;
    }
    Object.assign(env, { TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: namespace });
    const child = spawn(process.execPath, [RDD, 'setup', ...args], { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The namespace's custom search attributes as `{ name: 'INDEXED_VALUE_TYPE_…' }`. */
async function customAttributes(namespace: string): Promise<Record<string, string>> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  return Object.fromEntries(
    Object.entries(customAttributes ?? {}).map(([name, type]) => [name, IndexedValueType[type]]),
  );
}

describe('the embedded stack', () => {
  it('registers every search attribute with its type on its dev server (--search-attribute)', async () => {
    const shared = await Connection.connect({ address: testServices().temporalAddress });
    try {
      const { customAttributes } = await shared.operatorService.listSearchAttributes({
        namespace: testServices().namespace,
      });
      for (const key of SEARCH_ATTRIBUTES) {
        expect(IndexedValueType[customAttributes?.[key.name] ?? 0], key.name).toBe(
          `INDEXED_VALUE_TYPE_${key.type}`,
        );
      }
    } finally {
      await shared.close();
    }
  });
});

describe('rdd setup on a bare cluster', () => {
  it('the dev server started without --search-attribute has none of ours', async () => {
    const attributes = await customAttributes('default');
    for (const key of SEARCH_ATTRIBUTES) expect(attributes[key.name], key.name).toBeUndefined();
  });

  it('creates the namespace and registers every search attribute; a second run changes nothing', async () => {
    const namespace = 'rdd-setup';
    await expect(connection.workflowService.describeNamespace({ namespace })).rejects.toThrow(/not found/i);

    const first = await rddSetup(namespace, ['--retention-days', '2']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`namespace ${namespace}: created (retention 2 days)`);
    expect(first.stdout).toContain('search attribute DetectionScore (Double): added');
    expect(first.stdout).toContain(`${SEARCH_ATTRIBUTES.length} added; ${namespace} is ready`);

    const described = await connection.workflowService.describeNamespace({ namespace });
    expect(Number(described.config?.workflowExecutionRetentionTtl?.seconds)).toBe(2 * 86_400);
    const attributes = await customAttributes(namespace);
    for (const key of SEARCH_ATTRIBUTES) {
      expect(attributes[key.name], key.name).toBe(`INDEXED_VALUE_TYPE_${key.type}`);
    }

    // Usable at once: a workflow started with them (no worker needed) is found by a query on them.
    const client = new Client({ connection, namespace });
    const workflowId = `setup-probe-${Date.now()}`;
    await client.workflow.start('noSuchWorkflow', {
      taskQueue: 'setup-probe',
      workflowId,
      typedSearchAttributes: new TypedSearchAttributes([
        { key: DetectionVerdict, value: 'deepfake' },
        { key: DetectionScore, value: 4.25 },
      ]),
    });
    let found: string[] = [];
    for (let i = 0; i < 100 && found.length === 0; i++) {
      found = [];
      for await (const w of client.workflow.list({
        query: `DetectionVerdict = 'deepfake' AND DetectionScore > 4`,
      }))
        found.push(w.workflowId);
      if (found.length === 0) await sleep(100);
    }
    expect(found).toEqual([workflowId]);
    await client.workflow.getHandle(workflowId).terminate('probe done');

    const second = await rddSetup(namespace);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`namespace ${namespace}: exists`);
    expect(second.stdout).toContain('search attribute DetectionPhase (Keyword): already registered');
    expect(second.stdout).not.toContain(': added');
    expect(second.stdout).toContain(`nothing to do; ${namespace} is ready`);
  }, 60_000);

  it('a name registered with another type is exit 2, and nothing is added', async () => {
    const namespace = 'rdd-setup-conflict';
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: { seconds: 86_400 as never },
    });
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: { DetectionScore: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD },
    });

    const run = await rddSetup(namespace);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(
      `rdd setup: namespace ${namespace} already has DetectionScore as Keyword (rdd needs Double); nothing was changed`,
    );
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    const attributes = await customAttributes(namespace);
    expect(attributes).toEqual({ DetectionScore: 'INDEXED_VALUE_TYPE_KEYWORD' });
  }, 60_000);
});
