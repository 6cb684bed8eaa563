/**
 * The demo recordings (three speakers × genuine take + clone) and the stand-in scorer's calibration:
 * every genuine pair must score below 0 and every clone above 0.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { probeMedia } from '../../dev/emulator/media-probe.ts';
import { scoreFiles } from '../../dev/emulator/score-files.ts';
import { generateDemoRecordings, type DemoPair } from '../../dev/demo/recordings.ts';

let dir: string;
let pairs: DemoPair[];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rdd-demo-test-'));
  pairs = await generateDemoRecordings(dir);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('generateDemoRecordings', () => {
  it('makes six pairs like the vendor example: WAV references and takes, MP3 clones', async () => {
    expect(pairs.map((p) => `${p.name}:${p.expect}`)).toEqual([
      'Harry vs Harry2:genuine',
      'Harry vs Harry_clone:deepfake',
      'Juan vs Juan2:genuine',
      'Juan vs Juan_clone:deepfake',
      'Veronika vs Veronika2:genuine',
      'Veronika vs Veronika_clone:deepfake',
    ]);
    for (const pair of pairs) {
      const { readFile } = await import('node:fs/promises');
      const reference = await probeMedia(new Uint8Array(await readFile(pair.reference)));
      const questioned = await probeMedia(new Uint8Array(await readFile(pair.questioned)));
      expect(reference).toMatchObject({ container: 'WAVE', channels: 1, sampleRate: 16000 });
      expect(reference.durationSeconds).toBeGreaterThan(5);
      expect(reference.durationSeconds).toBeLessThan(9);
      expect(questioned.container).toBe(pair.expect === 'genuine' ? 'WAVE' : 'MPEG');
    }
  });

  it('is idempotent: existing files are kept', async () => {
    const before = await Promise.all(pairs.map(async (p) => (await stat(p.questioned)).mtimeMs));
    const again = await generateDemoRecordings(dir);
    expect(again).toEqual(pairs);
    expect(await Promise.all(pairs.map(async (p) => (await stat(p.questioned)).mtimeMs))).toEqual(before);
  });

  it('scores every genuine take below 0 and every clone above 0 with the stand-in scorer', async () => {
    for (const pair of pairs) {
      const outcome = await scoreFiles(pair.reference, pair.questioned);
      expect(outcome.state, pair.name).toBe('done');
      const score = (outcome as { score: number }).score;
      if (pair.expect === 'genuine') expect(score, pair.name).toBeLessThan(-0.5);
      else expect(score, pair.name).toBeGreaterThan(0.5);
    }
  });
});
