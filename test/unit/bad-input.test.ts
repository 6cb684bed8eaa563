/**
 * Issue 10, "Bad input", the rows that need no server: the pure checks every entry point shares
 * (`detectInputProblems`, the id rules, `--config` parsing) and how the CLI names a local file in a
 * failure. Each row: the input, the exact problems a user reads. The rows that run through
 * Temporal, S3, the API and the CLI are in test/integration/bad-input.test.ts.
 */
import { InvalidArgumentError } from '@commander-js/extra-typings';
import { describe, expect, it } from 'vitest';
import { withLocalPaths } from '../../src/starters/cli-support.ts';
import { jsonObject } from '../../src/starters/option-values.ts';
import {
  detectInputProblems,
  TEMPORAL_MAX_ID_BYTES,
  temporalIdProblems,
  workflowIdProblems,
} from '../../src/shared/validate-input.ts';

const reference = { bucket: 'media', key: 'calls/ref.wav' };
const questioned = { bucket: 'media', key: 'calls/q.wav' };

describe('detectInputProblems: one row per bad input, the exact problems', () => {
  it.each<[string, unknown, string[]]>([
    ['not an object', 'ref.wav q.wav', ['input must be an object {reference, questioned, …}']],
    ['missing questioned', { reference }, ['questioned must be an object {bucket, key, channel?}']],
    [
      'missing bucket field',
      { reference: { key: 'a.wav' }, questioned },
      ['reference.bucket must be a non-empty string'],
    ],
    [
      'invalid bucket name',
      { reference, questioned: { bucket: 'Call_Recordings..2024', key: 'q.wav' } },
      [
        'questioned.bucket "Call_Recordings..2024" is not a valid S3 bucket name: uppercase letters, "_" is not allowed, adjacent dots ".."',
      ],
    ],
    [
      'key with ".."',
      { reference, questioned: { bucket: 'media', key: 'calls/../q.wav' } },
      ['questioned.key "calls/../q.wav" is not a usable S3 object key: a "." or ".." segment'],
    ],
    [
      'key with "//"',
      { reference: { bucket: 'media', key: 'calls//ref.wav' }, questioned },
      ['reference.key "calls//ref.wav" is not a usable S3 object key: an empty segment "//"'],
    ],
    [
      'key with a leading "/"',
      { reference, questioned: { bucket: 'media', key: '/calls/q.wav' } },
      ['questioned.key "/calls/q.wav" is not a usable S3 object key: a leading "/"'],
    ],
    [
      'mistyped key, channel, threshold',
      {
        reference: { ...reference, channel: '1' },
        questioned: { bucket: 'media', key: 42 },
        threshold: 'high',
      },
      [
        'reference.channel must be a 0-based channel index, got "1"',
        'questioned.key must be a non-empty string',
        'threshold must be a finite number, got "high"',
      ],
    ],
    [
      'negative channel',
      { reference, questioned: { ...questioned, channel: -1 } },
      ['questioned.channel must be a 0-based channel index, got -1'],
    ],
    [
      'config as a JSON string',
      { reference, questioned, config: '{"a": 1}' },
      ['config must be a JSON object'],
    ],
    [
      'params with a number',
      { reference, questioned, params: { a: 1 } },
      ['params must map names to string values'],
    ],
  ])('%s', (_, input, problems) => {
    expect(detectInputProblems(input)).toEqual(problems);
  });

  it('a usable input has no problems (so every row above fails for its own reason)', () => {
    expect(detectInputProblems({ reference, questioned, config: { a: 1 }, threshold: 0.5 })).toEqual([]);
  });
});

describe('workflow ids', () => {
  it('over the result-key segment limit names the id and the limit', () => {
    expect(workflowIdProblems(`d-${'x'.repeat(300)}`, 'id')).toEqual([
      `id "d-${'x'.repeat(38)}…${'x'.repeat(12)}" (302 bytes) is not usable: 302 bytes, over 250 (it becomes the key segment "<id>.json", at most 255 bytes)`,
    ]);
  });

  it("over Temporal's 1000 bytes (with a result key of its own), and empty", () => {
    expect(temporalIdProblems('x'.repeat(TEMPORAL_MAX_ID_BYTES + 1), 'id')).toEqual([
      'id is 1001 bytes, over the 1000 bytes Temporal allows',
    ]);
    // Counted in UTF-8 bytes, as the server counts: 334 × "€" is 1002 bytes.
    expect(temporalIdProblems('€'.repeat(334))).toEqual([
      'workflow id is 1002 bytes, over the 1000 bytes Temporal allows',
    ]);
    expect(temporalIdProblems('', 'id')).toEqual(['id must not be empty']);
    expect(temporalIdProblems('x'.repeat(TEMPORAL_MAX_ID_BYTES))).toEqual([]);
  });
});

describe('--config', () => {
  it.each([
    [
      '{"max_speech_length": 60',
      /^Not valid JSON: Expected ',' or '\}' after property value in JSON at position 24/,
    ],
    ['[1, 2]', /^Expected a JSON object, e\.g\. '\{"max_speech_length": 60\}'\.$/],
    ['null', /^Expected a JSON object/],
  ])('%s is refused with a precise reason', (raw, reason) => {
    let thrown: unknown;
    try {
      jsonObject(raw);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(InvalidArgumentError);
    expect((thrown as Error).message).toMatch(reason);
  });
});

describe('the CLI names a local file once, also when it was given twice', () => {
  it('one "(local file …)" per object', () => {
    const ref = { bucket: 'media', key: 'media/9f.wav' };
    const text = 'reference and questioned are the same recording s3://media/media/9f.wav (channel 0): …';
    expect(
      withLocalPaths(text, [
        { path: 'call.wav', ref },
        { path: 'call.wav', ref },
      ]),
    ).toBe(
      'reference and questioned are the same recording s3://media/media/9f.wav (local file call.wav) (channel 0): …',
    );
  });
});
