/**
 * TLS to the platform with a private CA: the emulator serves HTTPS with a certificate signed by a
 * CA made here (openssl); with DETECTOR_CA_FILE naming that CA the client and a real detection
 * work, without it (or with another CA) the certificate is refused with a message naming the URL
 * and the fix, and `rdd worker` exits 2 at start-up.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../../dev/emulator/index.ts';
import { createDetectorClient, DetectorTlsError } from '../../src/activities/detector/index.ts';
import { toDetectorFailure } from '../../src/activities/detector-failures.ts';
import { speechWav } from '../helpers/audio.ts';
import { startHarness, type Harness } from '../helpers/detection-harness.ts';
import { rejection } from '../helpers/rejection.ts';

const RDD = fileURLToPath(new URL('../../src/starters/rdd.ts', import.meta.url));

let dir: string;
let caFile: string;
let otherCaFile: string;
let tls: { key: string; cert: string };

/** A CA (key + self-signed certificate) in `dir`, named `name`; returns the certificate's path. */
function makeCa(name: string): string {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.pem`,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
  );
  return path.join(dir, `${name}.pem`);
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'rdd-tls-'));
  caFile = makeCa('rdd-test-ca');
  otherCaFile = makeCa('rdd-other-ca');
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl(
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=127.0.0.1',
  );
  writeFileSync(
    path.join(dir, 'ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n',
  );
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'rdd-test-ca.pem',
    '-CAkey',
    'rdd-test-ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '2',
    '-extfile',
    'ext',
  );
  tls = {
    key: readFileSync(path.join(dir, 'server.key'), 'utf8'),
    cert: readFileSync(path.join(dir, 'server.pem'), 'utf8'),
  };
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('the platform client over HTTPS with a private CA', () => {
  it('trusts the platform with the CA, refuses it without or with another CA, naming the URL and the fix', async () => {
    const emulator = await startEmulator({ tls });
    try {
      expect(emulator.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const trusting = createDetectorClient({ baseUrl: emulator.url, ca: readFileSync(caFile, 'utf8') });
      expect((await trusting.systemInfo()).version).toMatch(/\d/);
      await trusting.close();

      for (const ca of [undefined, readFileSync(otherCaFile, 'utf8')]) {
        const client = createDetectorClient({ baseUrl: emulator.url, ...(ca && { ca }) });
        const err = await rejection(client.systemInfo());
        await client.close();
        expect(err).toBeInstanceOf(DetectorTlsError);
        const message = (err as Error).message;
        expect(message).toContain(`the Speech Platform at ${emulator.url}`);
        expect(message).toContain('not trusted');
        expect(message).toContain('set DETECTOR_CA_FILE to the PEM file of the CA');
        // The activity failure carries the same words.
        expect((toDetectorFailure(err) as Error).message).toContain('DETECTOR_CA_FILE');
      }
    } finally {
      await emulator.close();
    }
  });
});

describe('detections over HTTPS', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({ tls }, { workerEnv: { DETECTOR_CA_FILE: caFile } });
  });
  afterAll(async () => {
    await harness?.close();
  });

  it('completes a detection with DETECTOR_CA_FILE naming the CA', async () => {
    const speech = await speechWav({ text: 'My voice is my password, please verify me.', voice: 'en+m3' });
    const handle = await harness.start({
      reference: await harness.upload(speech, `${harness.taskQueue}/tls-ref.wav`),
      questioned: await harness.upload(speech, `${harness.taskQueue}/tls-q.wav`),
    });
    const result = await handle.result();
    expect(result.platform.url).toBe(harness.emulator.url);
    expect(result.platform.url).toMatch(/^https:/);
  });

  it('`rdd worker` without the CA exits 2 at start-up with the message', async () => {
    const { DETECTOR_CA_FILE: _omitted, ...env } = harness.env;
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [RDD, 'worker'], {
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('close', (exit) => resolve({ code: exit, stderr }));
    });
    expect(stderr).toContain(`the Speech Platform at ${harness.emulator.url}`);
    expect(stderr).toContain('set DETECTOR_CA_FILE');
    expect(code).toBe(2);
  });
});
