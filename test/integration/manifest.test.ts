/**
 * `readManifestPage` against the real versitygw: pages and cursors across ranged-GET chunk
 * boundaries, CSV and JSON Lines, line-numbered problems, prefix listings, a replaced manifest.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { readManifestPage } from '../../src/activities/read-manifest-page.ts';
import type { BatchPair, BatchSource, ManifestProblem } from '../../src/shared/batch.ts';
import { s3Client, testServices } from '../helpers/services.ts';

const s3 = s3Client();
const { bucket } = testServices().s3;
const prefix = `manifest-${randomUUID().slice(0, 8)}`;

afterAll(() => s3.destroy());

async function put(key: string, body: string): Promise<{ bucket: string; key: string }> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/${key}`, Body: body }));
  return { bucket, key: `${prefix}/${key}` };
}

async function readAll(source: BatchSource, maxPairs: number) {
  const pairs: BatchPair[] = [];
  const problems: ManifestProblem[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page = await readManifestPage({ s3 }, { batchId: 'b1', source, cursor, maxPairs, threshold: 0 });
    expect(page.pairs.length).toBeLessThanOrEqual(maxPairs);
    pairs.push(...page.pairs);
    problems.push(...page.problems);
    cursor = page.nextCursor;
    pages++;
  } while (cursor !== null);
  return { pairs, problems, pages };
}

describe('readManifestPage', () => {
  it('reads a CSV larger than several ranged GETs in pages, every line exactly once', async () => {
    const count = 12_000; // about 1 MiB: four 256 KiB chunks, lines cut at every chunk end
    const lines = ['id,reference,questioned,label'];
    for (let n = 0; n < count; n++) {
      lines.push(
        `pair-${n},s3://media-a/refs/speaker-${n % 7}.wav,calls/${'x'.repeat(n % 40)}call-${n}.wav,${n % 2 ? 'genuine' : 'deepfake'}`,
      );
    }
    const manifest = await put('big.csv', `${lines.join('\n')}\n`);
    // Pages of 3000 lines (about 300 KiB) span chunk ends: a line cut by a chunk must not be taken whole.
    const { pairs, problems, pages } = await readAll({ manifest }, 3000);
    expect(problems).toEqual([]);
    expect(pages).toBe(count / 3000); // the last page reaches the end: no empty page after it
    expect(pairs.map((p) => p.line)).toEqual(Array.from({ length: count }, (_, n) => n + 2));
    for (const [n, pair] of pairs.entries()) {
      expect(pair.id).toBe(`pair-${n}`);
      expect(pair.questioned).toEqual({ bucket, key: `calls/${'x'.repeat(n % 40)}call-${n}.wav` });
      expect(pair.reference).toEqual({ bucket: 'media-a', key: `refs/speaker-${n % 7}.wav` });
    }
    expect(pairs[0]!.childId).toMatch(/^b1-[0-9a-f]{24}$/);
    expect(new Set(pairs.map((p) => p.pairKey)).size).toBe(count);
  });

  it('reads JSON Lines (CRLF, camelCase, objects) and reports bad lines with their numbers', async () => {
    const body = [
      JSON.stringify({ id: 'a', reference: 's3://media-a/r.wav', questioned: 'q.wav', questionedChannel: 1 }),
      'not json',
      JSON.stringify({
        reference: { bucket: 'media-a', key: 'r.wav', channel: 0 },
        questioned: 's3://media-a/q2.wav',
        label: 'Deepfake',
      }),
      '[1,2]',
      JSON.stringify({ reference: 's3://media-a/r.wav' }),
      '',
      JSON.stringify({ reference: 's3://media-a/r.wav', questioned: 's3://media-a/../x.wav' }),
    ].join('\r\n');
    const manifest = await put('pairs.jsonl', body);
    const { pairs, problems } = await readAll({ manifest }, 2);
    expect(pairs.map((p) => [p.line, p.questioned, p.reference.channel, p.label])).toEqual([
      [1, { bucket, key: 'q.wav', channel: 1 }, undefined, null],
      [3, { bucket: 'media-a', key: 'q2.wav' }, 0, 'deepfake'],
    ]);
    expect(problems.map((p) => p.line)).toEqual([2, 4, 5, 7]);
    expect(problems[0]!.reason).toMatch(/^not JSON/);
    expect(problems[1]!.reason).toBe('not a JSON object');
    expect(problems[2]!.reason).toBe('questioned is missing');
    expect(problems[3]!.reason).toMatch(/questioned key/);
  });

  it('skips an overlong line as a problem and goes on', async () => {
    const manifest = await put(
      'long.csv',
      ['reference,questioned', `s3://media-a/r.wav,${'y'.repeat(300_000)}`, 's3://media-a/r.wav,ok.wav'].join(
        '\n',
      ),
    );
    const { pairs, problems } = await readAll({ manifest }, 10);
    expect(problems).toEqual([{ line: 2, reason: 'line longer than 65536 bytes' }]);
    expect(pairs.map((p) => [p.line, p.questioned.key])).toEqual([[3, 'ok.wav']]);
  });

  it('refuses a manifest without reference and questioned columns', async () => {
    const manifest = await put('header.csv', 'ref,q\na,b\n');
    const error = await readManifestPage(
      { s3 },
      { batchId: 'b1', source: { manifest }, cursor: null, maxPairs: 5, threshold: 0 },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect(error).toMatchObject({ type: 'InvalidInput', nonRetryable: true });
    expect((error as Error).message).toMatch(/lacks reference and questioned/);
  });

  it('fails MediaChanged when the manifest is replaced between pages', async () => {
    const manifest = await put('changing.csv', 'reference,questioned\nr.wav,a.wav\nr.wav,b.wav\n');
    const first = await readManifestPage(
      { s3 },
      { batchId: 'b1', source: { manifest }, cursor: null, maxPairs: 1, threshold: 0 },
    );
    await put('changing.csv', 'reference,questioned\nr.wav,c.wav\nr.wav,d.wav\n');
    const error = await readManifestPage(
      { s3 },
      { batchId: 'b1', source: { manifest }, cursor: first.nextCursor, maxPairs: 1, threshold: 0 },
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ type: 'MediaChanged', nonRetryable: true });
  });

  it('lists a prefix in pages, with the suffix filter, leaving out the reference', async () => {
    for (const name of ['a.wav', 'b.mp3', 'c.wav', 'd.wav', 'sub/e.wav', 'ref.wav', 'f.wav'])
      await put(`clips/${name}`, 'x');
    const reference = { bucket, key: `${prefix}/clips/ref.wav` };
    const { pairs, problems } = await readAll(
      { reference, prefix: { bucket, prefix: `${prefix}/clips/`, suffix: '.wav' } },
      3,
    );
    expect(problems).toEqual([]);
    expect(pairs.map((p) => p.questioned.key.slice(prefix.length + 1)).sort()).toEqual(
      ['clips/a.wav', 'clips/c.wav', 'clips/d.wav', 'clips/f.wav', 'clips/sub/e.wav'].sort(),
    );
    expect(pairs.every((p) => p.reference.key === reference.key)).toBe(true);
    // Prefix rows are named: id = the key, line = the position among the objects taken, across pages.
    expect(pairs.map((p) => p.line)).toEqual([1, 2, 3, 4, 5]);
    expect(pairs.every((p) => p.id === p.questioned.key)).toBe(true);
  });

  it('fails InvalidInput "no pairs in …" for an empty manifest, a bare header and a prefix of nothing', async () => {
    const read = (source: BatchSource) =>
      readManifestPage({ s3 }, { batchId: 'b1', source, cursor: null, maxPairs: 5, threshold: 0 }).catch(
        (e: unknown) => e,
      );
    const empty = await read({ manifest: await put('empty.jsonl', '\n\n') });
    expect(empty).toMatchObject({ type: 'InvalidInput', nonRetryable: true });
    expect((empty as Error).message).toBe(
      `no pairs in s3://${bucket}/${prefix}/empty.jsonl: the manifest is empty`,
    );
    const header = await read({ manifest: await put('header-only.csv', 'reference,questioned\n') });
    expect((header as Error).message).toMatch(
      /^no pairs in .*header-only\.csv: the manifest is empty but for its header$/,
    );
    const typo = await read({
      reference: { bucket, key: `${prefix}/clips/ref.wav` },
      prefix: { bucket, prefix: `${prefix}/clipz/` },
    });
    expect(typo).toMatchObject({ type: 'InvalidInput', nonRetryable: true });
    expect((typo as Error).message).toBe(
      `no pairs in s3://${bucket}/${prefix}/clipz/: no object under the prefix`,
    );
    await put('alone/ref.wav', 'x');
    const alone = await read({
      reference: { bucket, key: `${prefix}/alone/ref.wav` },
      prefix: { bucket, prefix: `${prefix}/alone/`, suffix: '.wav' },
    });
    expect((alone as Error).message).toMatch(/ending in "\.wav" but the reference itself/);
    // A manifest of invalid lines only is not empty: its lines are reported.
    const { problems } = await readAll({ manifest: await put('junk.jsonl', 'nope\n') }, 5);
    expect(problems).toHaveLength(1);
  });

  it('keeps the label of an invalid line', async () => {
    const manifest = await put(
      'labelled-problems.csv',
      'reference,questioned,questioned_channel,label\nr.wav,q.wav,-1,deepfake\nr.wav,q.wav,x,maybe\n',
    );
    const { problems } = await readAll({ manifest }, 5);
    expect(problems.map((p) => [p.line, p.label ?? null])).toEqual([
      [2, 'deepfake'],
      [3, null],
    ]);
  });
});
