/**
 * The name rules applied before any work starts: S3 bucket names, object keys, workflow ids, and
 * their use in detectInputProblems. Pure code, table-driven; includes the reproductions.
 */
import { describe, expect, it } from 'vitest';
import {
  bucketNameProblems,
  defaultResultKey,
  detectInputProblems,
  objectKeyProblems,
  workflowIdProblems,
} from '../../src/shared/validate-input.ts';
import { utf8Length } from '../../src/shared/s3-names.ts';

const ok = { bucket: 'rdd-media', key: 'media/a.wav' };

describe('bucketNameProblems', () => {
  it.each([['rdd-media'], ['abc'], ['a'.repeat(63)], ['my.bucket.2024'], ['0start-and-end9']])(
    'accepts %j',
    (name) => {
      expect(bucketNameProblems(name)).toEqual([]);
    },
  );

  it.each([
    // The reproduction from the issue: S3 answers 400 with no body to a HEAD on it.
    ['Call_Recordings..2024', ['uppercase letters', '"_" is not allowed', 'adjacent dots']],
    ['ab', ['3 to 63 characters, has 2']],
    ['a'.repeat(64), ['3 to 63 characters, has 64']],
    ['-bucket', ['must start with a letter or digit']],
    ['bucket-', ['must end with a letter or digit']],
    ['bucket.', ['must end with a letter or digit']],
    ['192.168.5.4', ['must not be an IP address']],
    ['xn--bucket', ['the prefix "xn--" is reserved']],
    ['sthree-bucket', ['the prefix "sthree-" is reserved']],
    ['bucket-s3alias', ['the suffix "-s3alias" is reserved']],
    ['bucket--ol-s3', ['the suffix "--ol-s3" is reserved']],
    ['my bucket/x', ['" " "/" are not allowed']],
  ])('refuses %j, saying why', (name, reasons) => {
    const problems = bucketNameProblems(name, 'questioned.bucket');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`questioned.bucket ${JSON.stringify(name).slice(0, 30)}`);
    expect(problems[0]).toContain('is not a valid S3 bucket name');
    for (const reason of reasons) expect(problems[0]).toContain(reason);
  });
});

describe('objectKeyProblems', () => {
  it.each([
    ['a'],
    ['media/9f2c.wav'],
    ['incoming/call-0001.wav'],
    [`a/${'x'.repeat(255)}`],
    [`${'é'.repeat(127)}/x`], // 254 bytes in one segment
    ['with space/and ünïcode.wav'],
    ['a..b/c.d'], // dots inside a segment are fine
  ])('accepts %j', (key) => {
    expect(objectKeyProblems(key)).toEqual([]);
  });

  it.each([
    ['', 'it is empty'],
    [`results/${'i'.repeat(302)}.json`, 'a segment of 307 bytes, over 255'],
    [`${'é'.repeat(128)}`, 'a segment of 256 bytes, over 255'], // 128 characters, 256 bytes
    [`${'a/'.repeat(600)}b`, '1201 bytes, over the 1024-byte S3 limit'],
    ['/media/a.wav', 'a leading "/"'],
    ['media/', 'a trailing "/"'],
    ['media//a.wav', 'an empty segment "//"'],
    ['media/../a.wav', 'a "." or ".." segment'],
    ['./a.wav', 'a "." or ".." segment'],
    ['media/a\n.wav', 'control characters'],
    ['media/a\u007f.wav', 'control characters'],
  ])('refuses %j: %s', (key, reason) => {
    const problems = objectKeyProblems(key, 'result.key');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^result\.key ".*" .*is not a usable S3 object key: /);
    expect(problems[0]).toContain(reason);
  });
});

describe('workflowIdProblems', () => {
  it.each([['detect-4b0f'], ['a'], ['x'.repeat(250)], ['détection 1']])('accepts %j', (id) => {
    expect(workflowIdProblems(id)).toEqual([]);
    expect(objectKeyProblems(defaultResultKey(id))).toEqual([]);
  });

  it.each([
    // The reproduction: a 302-character id makes `results/<id>.json` a 307-byte segment.
    ['i'.repeat(302), '302 bytes, over 250'],
    ['x'.repeat(251), '251 bytes, over 250'],
    ['é'.repeat(126), '252 bytes, over 250'],
    ['', 'it is empty'],
    ['team/detect-1', '"/" is not allowed'],
    ['detect\t1', 'control characters'],
  ])('refuses %j: %s', (id, reason) => {
    const problems = workflowIdProblems(id);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^workflow id ".*" .*is not usable: /);
    expect(problems[0]).toContain(reason);
  });

  it('shortens a long id in the message', () => {
    const [problem] = workflowIdProblems('i'.repeat(302));
    expect(problem!.length).toBeLessThan(250);
    expect(problem).toContain('(302 bytes)');
  });
});

describe('utf8Length', () => {
  it.each(['', 'abc', 'é', '€', '😀', 'a😀é€', '\ud800'])('agrees with TextEncoder on %j', (text) => {
    expect(utf8Length(text)).toBe(new TextEncoder().encode(text).length);
  });
});

describe('detectInputProblems', () => {
  it('accepts well-formed names everywhere', () => {
    expect(
      detectInputProblems({
        reference: ok,
        questioned: ok,
        result: { bucket: 'rdd-results', key: 'r/1.json' },
      }),
    ).toEqual([]);
  });

  it('names the questioned bucket of the reproduction and every other bad name, all at once', () => {
    const problems = detectInputProblems({
      reference: { bucket: 'rdd-media', key: 'media/../ref.wav' },
      questioned: { bucket: 'Call_Recordings..2024', key: 'incoming/call-0001.wav' },
      result: { bucket: 'Results', key: `results/${'i'.repeat(302)}.json` },
    });
    expect(problems).toEqual([
      'reference.key "media/../ref.wav" is not a usable S3 object key: a "." or ".." segment',
      'questioned.bucket "Call_Recordings..2024" is not a valid S3 bucket name: uppercase letters, "_" is not allowed, adjacent dots ".."',
      'result.bucket "Results" is not a valid S3 bucket name: uppercase letters',
      expect.stringMatching(
        /^result\.key ".*" \(315 bytes\) is not a usable S3 object key: a segment of 307 bytes/,
      ),
    ]);
  });

  it('still reports missing fields as before', () => {
    expect(detectInputProblems({ reference: { bucket: '', key: 'x' }, questioned: ok })).toEqual([
      'reference.bucket must be a non-empty string',
    ]);
  });
});
