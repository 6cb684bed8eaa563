/**
 * A TLS cluster reached purely through @temporalio/envconfig, as Temporal Cloud or a self-hosted
 * TLS cluster is: the cluster of test/helpers/temporal-cluster.ts with its frontend on mTLS
 * (certificates from a throwaway CA made with openssl). `rdd setup` (the client path) connects with
 * the TEMPORAL_TLS_* variables, the worker's connection (`connectWorker`) with a profile of a TOML
 * config file; without a client certificate the server refuses and nothing is created.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, connectWorker } from '../../src/client/connection.ts';
import { startTemporalCluster, type TemporalCluster } from '../helpers/temporal-cluster.ts';

const RDD = fileURLToPath(new URL('../../src/starters/rdd.ts', import.meta.url));

let dir: string;
let cluster: TemporalCluster;
const pem = (name: string) => path.join(dir, name);

/** A CA, a server certificate for localhost / 127.0.0.1 and a client certificate, with openssl. */
function makeCertificates(): void {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl(
    ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=rdd test CA'],
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  );
  for (const [name, cn, usage] of [
    ['server', 'localhost', 'serverAuth,clientAuth'],
    ['client', 'rdd-worker', 'clientAuth'],
  ] as const) {
    writeFileSync(
      pem(`${name}.ext`),
      `subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=${usage}\nbasicConstraints=CA:FALSE\n`,
    );
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${cn}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
    );
    openssl(
      ...['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial'],
      ...['-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.pem`],
    );
  }
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'rdd-cluster-tls-'));
  makeCertificates();
  cluster = await startTemporalCluster({
    tls: {
      certFile: pem('server.pem'),
      keyFile: pem('server.key'),
      caFile: pem('ca.pem'),
      requireClientAuth: true,
      serverName: 'localhost',
    },
  });
}, 240_000);

afterAll(async () => {
  await cluster?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** `rdd setup` with `vars` as its only Temporal settings. */
function rddSetup(vars: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('TEMPORAL_')) env[key] = value;
  }
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [RDD, 'setup'],
      { env: { ...env, ...vars }, cwd: dir },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('a TLS cluster through @temporalio/envconfig', () => {
  it('rdd setup connects with TEMPORAL_TLS_* (mTLS) and creates the namespace', async () => {
    const run = await rddSetup({
      TEMPORAL_ADDRESS: cluster.address,
      TEMPORAL_NAMESPACE: 'rdd-tls',
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: pem('ca.pem'),
      TEMPORAL_TLS_CLIENT_CERT_PATH: pem('client.pem'),
      TEMPORAL_TLS_CLIENT_KEY_PATH: pem('client.key'),
      // The address is an IP; the certificate's name is asked for explicitly (RFC 6066: no IPs in SNI).
      TEMPORAL_TLS_SERVER_NAME: 'localhost',
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('namespace rdd-tls: created');
  }, 60_000);

  it('without a client certificate the server refuses, and nothing is created', async () => {
    const run = await rddSetup({
      TEMPORAL_ADDRESS: cluster.address,
      TEMPORAL_NAMESPACE: 'rdd-tls-no-cert',
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: pem('ca.pem'),
      TEMPORAL_TLS_SERVER_NAME: 'localhost',
    });
    expect(run.code).not.toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^rdd setup: /);
    const client = await connectClient({
      TEMPORAL_ADDRESS: cluster.address,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: pem('ca.pem'),
      TEMPORAL_TLS_CLIENT_CERT_PATH: pem('client.pem'),
      TEMPORAL_TLS_CLIENT_KEY_PATH: pem('client.key'),
      TEMPORAL_TLS_SERVER_NAME: 'localhost',
    });
    try {
      await expect(
        client.connection.workflowService.describeNamespace({ namespace: 'rdd-tls-no-cert' }),
      ).rejects.toThrow(/not found/i);
    } finally {
      await client.connection.close();
    }
  }, 60_000);

  it("the worker's connection reads a TLS profile from a TOML config file", async () => {
    const configFile = pem('temporal.toml');
    writeFileSync(
      configFile,
      [
        '[profile.cluster]',
        `address = "${cluster.address}"`,
        'namespace = "rdd-tls"',
        '[profile.cluster.tls]',
        `server_ca_cert_path = "${pem('ca.pem')}"`,
        `client_cert_path = "${pem('client.pem')}"`,
        `client_key_path = "${pem('client.key')}"`,
        'server_name = "localhost"',
        '',
      ].join('\n'),
    );
    const { connection, namespace } = await connectWorker({
      TEMPORAL_CONFIG_FILE: configFile,
      TEMPORAL_PROFILE: 'cluster',
    });
    try {
      expect(namespace).toBe('rdd-tls');
      const described = await connection.workflowService.describeNamespace({ namespace });
      expect(described.namespaceInfo?.name).toBe('rdd-tls');
    } finally {
      await connection.close();
    }
  }, 60_000);
});
