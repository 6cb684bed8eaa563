/**
 * The pure pieces of the client: header and body readers, URL resolution, multipart framing.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { resolveLocation } from '../../src/activities/detector/client.ts';
import { createMultipartBody, quoteParam } from '../../src/activities/detector/multipart.ts';
import {
  describeErrorBody,
  oneLine,
  parseRetryAfter,
  readJobStatus,
  snip,
} from '../../src/activities/detector/wire.ts';
import { extraHeaderProblems } from '../../src/activities/detector/headers.ts';
import { allowedOriginsFor, parseOrigin } from '../../src/activities/detector/origins.ts';

async function collect(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('parseRetryAfter', () => {
  const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
  it.each([
    ['120', 120_000],
    [' 0 ', 0],
    ['Wed, 21 Oct 2015 07:29:30 GMT', 90_000],
    ['Wed, 21 Oct 2015 07:00:00 GMT', 0],
    ['-5', undefined],
    ['1.5', undefined],
    ['soon', undefined],
    [undefined, undefined],
  ])('%j → %j', (value, ms) => {
    expect(parseRetryAfter(value, now)).toBe(ms);
  });
});

describe('resolveLocation', () => {
  const request = new URL('https://h/spe/api/technology/experimental/referential-deepfake-detection');
  it.each([
    ['https://other/api/x/1', 'rfc3986', 'https://other/api/x/1'],
    ['/api/x/1', 'rfc3986', 'https://h/api/x/1'],
    ['/api/x/1', 'base-path', 'https://h/spe/api/x/1'],
    ['https://other/api/x/1', 'base-path', 'https://other/api/x/1'],
    ['//cdn/x', 'base-path', 'https://cdn/x'],
    [
      'referential-deepfake-detection/1',
      'rfc3986',
      'https://h/spe/api/technology/experimental/referential-deepfake-detection/1',
    ],
    ['', 'rfc3986', undefined],
    ['ftp://h/x', 'rfc3986', undefined],
    ['http://[bad', 'rfc3986', undefined],
  ] as const)('%j (%s) → %j', (value, mode, expected) => {
    expect(resolveLocation(value, request, 'https://h/spe', mode)?.href).toBe(expected);
  });
});

describe('describeErrorBody', () => {
  it('joins the message and detail messages with their locations', () => {
    expect(
      describeErrorBody(
        JSON.stringify({
          type: 'request.validation-error',
          message: 'Invalid.',
          detail: [{ location: ['query', 'x'], message: 'bad x' }, { message: 'no location' }, 'plain'],
        }),
      ),
    ).toMatchObject({
      apiType: 'request.validation-error',
      message: 'Invalid.; query.x: bad x; no location; plain',
    });
  });

  it('shows an unknown JSON shape rather than dropping it', () => {
    expect(describeErrorBody('{"error":"nope"}').message).toBe('{"error":"nope"}');
  });

  it('returns nothing for an empty body', () => {
    expect(describeErrorBody('')).toEqual({});
  });
});

describe('oneLine and snip: response text fit for a log line', () => {
  it.each([
    ['collapses whitespace and newlines', 'a\r\n\t b\n', 10, 'a b'],
    ['escapes other control characters', 'x\u001b[2Jy\u0000z\u007f', 50, 'x\\x1b[2Jy\\x00z\\x7f'],
    ['escapes bidi overrides', 'ok\u202Eevil', 50, 'ok\\u202eevil'],
    ['cuts to max characters, the last one being …', 'abcdefghij', 5, 'abcd…'],
    ['never leaves half an escape', 'abc\u001bdef', 5, 'abc…'],
    ['never leaves half a surrogate pair', 'ab😀cd', 4, 'ab…'],
  ])('%s', (_what, text, max, expected) => {
    expect(oneLine(text, max)).toBe(expected);
  });

  it('is idempotent, so bounding twice changes nothing', () => {
    const once = oneLine(`a\u001b${'b'.repeat(500)}`, 200);
    expect(oneLine(once, 200)).toBe(once);
  });

  it('snip defaults to 200 characters and gives undefined for a blank body', () => {
    expect(snip('x'.repeat(1000))).toHaveLength(200);
    expect(snip(' \n ')).toBeUndefined();
  });

  it('describeErrorBody bounds the platform message to 500 characters', () => {
    const message = describeErrorBody(JSON.stringify({ message: 'm'.repeat(5000) })).message;
    expect(message).toHaveLength(500);
  });

  it("bounds a rejected job's error message", () => {
    const read = readJobStatus(
      { task: { task_id: 'a', state: 'rejected' }, error: { type: 't', message: `a\nb${'c'.repeat(900)}` } },
      undefined,
    );
    expect(read.ok && read.value.error?.message).toMatch(/^a bc+…$/);
    expect(read.ok && read.value.error?.message.length).toBe(500);
  });
});

describe('extraHeaderProblems', () => {
  it('accepts ordinary headers', () => {
    expect(extraHeaderProblems({ Authorization: 'Bearer abc', 'X-Tenant': 't1', 'X-Empty': '' })).toEqual([]);
  });

  it.each([
    [
      'a value with LF',
      { Authorization: 'Bearer x\nY' },
      'header "Authorization" has a value that is not a valid HTTP field value',
    ],
    ['a value with CR', { A: 'x\ry' }, 'header "A" has a value'],
    ['a value with NUL', { A: 'x\u0000' }, 'header "A" has a value'],
    ['a value with DEL', { A: 'x\u007f' }, 'header "A" has a value'],
    ['a value beyond Latin-1', { A: 'x\u20ac' }, 'header "A" has a value'],
    ['a name with a space', { 'bad name': 'v' }, 'header "bad name" has an invalid name'],
    ['a name with a newline', { 'a\nb': 'v' }, 'header "a\\nb" has an invalid name'],
    ['an empty name', { '': 'v' }, 'header "" has an invalid name'],
    ['a reserved name', { Host: 'v' }, 'header "Host" is set by the client itself'],
    ['a name given twice', { 'X-A': '1', 'x-a': '2' }, 'header "x-a" is given twice'],
    ['a value that is not a string', { A: 1 }, 'header "A" must have a string value'],
  ])('reports %s by name, never by value', (_what, headers, expected) => {
    const problems = extraHeaderProblems(headers);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(expected);
    for (const value of Object.values(headers)) {
      if (typeof value === 'string' && value.length > 1) expect(problems[0]).not.toContain(value);
    }
  });
});

describe('parseOrigin and allowedOriginsFor', () => {
  it.each([
    ['https://Node1.Example.com:443/', 'https://node1.example.com'],
    ['http://10.0.0.7:8000', 'http://10.0.0.7:8000'],
    ['  http://[::1]:9000 ', 'http://[::1]:9000'],
  ])('accepts %j as %j', (value, origin) => {
    expect(parseOrigin(value)).toEqual({ ok: true, origin });
  });

  it.each([
    'node1:8000',
    'ftp://node1',
    'https://lb/spe',
    'https://lb/?x=1',
    'https://lb/#f',
    'https://u:p@lb',
    '',
  ])('refuses %j', (value) => {
    expect(parseOrigin(value).ok).toBe(false);
  });

  it("puts the base URL's origin first and drops duplicates", () => {
    expect(
      allowedOriginsFor('https://spe.test/spe', ['https://node:1', 'https://SPE.test', 'https://node:1/']),
    ).toEqual(['https://spe.test', 'https://node:1']);
  });
});

describe('readJobStatus', () => {
  it('accepts a numeric task id and an error without a message', () => {
    expect(
      readJobStatus({ task: { task_id: 7, state: 'failed' }, error: { type: 'internal' } }, undefined),
    ).toEqual({
      ok: true,
      value: { jobId: '7', state: 'failed', error: { type: 'internal', message: '' } },
    });
  });

  it('reads a malformed error tolerantly', () => {
    expect(readJobStatus({ task: { task_id: 'a', state: 'failed' }, error: 'boom' }, undefined)).toEqual({
      ok: true,
      value: { jobId: 'a', state: 'failed', error: { type: 'unknown', message: 'boom' } },
    });
  });

  it('needs a job id from somewhere', () => {
    expect(readJobStatus({ task: { state: 'running' } }, undefined)).toEqual({
      ok: false,
      reason: 'task.task_id is missing',
    });
  });
});

describe('multipart', () => {
  it('frames parts exactly as RFC 7578 says', async () => {
    const mp = createMultipartBody(
      [
        {
          name: 'file_reference',
          filename: 'a.wav',
          contentType: 'audio/wav',
          body: Readable.from([Buffer.from('AB')]),
          size: 2,
        },
        { name: 'config', value: '{"k":"ü"}' },
      ],
      { boundary: 'XYZ' },
    );
    const expected =
      '--XYZ\r\nContent-Disposition: form-data; name="file_reference"; filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\nAB\r\n' +
      '--XYZ\r\nContent-Disposition: form-data; name="config"\r\n\r\n{"k":"ü"}\r\n' +
      '--XYZ--\r\n';
    const bytes = await collect(mp.body);
    expect(bytes.toString('utf8')).toBe(expected);
    expect(mp.contentLength).toBe(Buffer.byteLength(expected));
    expect(mp.contentType).toBe('multipart/form-data; boundary=XYZ');
  });

  it('has no length when a file size is unknown', () => {
    const mp = createMultipartBody([{ name: 'f', filename: 'f', body: Readable.from([]) }]);
    expect(mp.contentLength).toBeUndefined();
  });

  it('uses a fresh random boundary each time', () => {
    const a = createMultipartBody([]).boundary;
    const b = createMultipartBody([]).boundary;
    expect(a).not.toBe(b);
    expect(a).toMatch(/^----rdd-[0-9a-f]{32}$/);
  });

  it('skips empty chunks, which would end a chunked request early', async () => {
    const mp = createMultipartBody(
      [
        {
          name: 'f',
          filename: 'f',
          body: Readable.from([Buffer.alloc(0), Buffer.from('x'), Buffer.alloc(0)]),
          size: 1,
        },
      ],
      { boundary: 'B' },
    );
    const chunks: Uint8Array[] = [];
    for await (const chunk of mp.body) chunks.push(chunk);
    expect(chunks.every((chunk) => chunk.byteLength > 0)).toBe(true);
  });

  it('rejects a boundary that is not allowed', () => {
    expect(() => createMultipartBody([], { boundary: 'has space"' })).toThrow(TypeError);
  });

  it.each([
    ['plain.wav', 'plain.wav'],
    ['a"b', 'a%22b'],
    ['a\r\nb', 'a%0D%0Ab'],
    ['C:\\x\\', 'C:%5Cx%5C'],
    ['ü.wav', 'ü.wav'],
  ])('quoteParam(%j) → %j', (value, quoted) => {
    expect(quoteParam(value)).toBe(quoted);
  });
});
