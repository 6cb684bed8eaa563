/**
 * The platform client keeps DETECTOR_HEADERS values out of what it reports, even when the platform
 * (or a gateway) echoes them in an error body.
 */
import { MockAgent } from 'undici';
import { describe, expect, it } from 'vitest';
import { createDetectorClient, isDetectorHttpError } from '../../src/activities/detector/index.ts';
import { scrubHeaderEcho } from '../../src/activities/detector/header-echo.ts';
import { rejection } from '../helpers/rejection.ts';

const token = 'tok-0123456789abcdef';

describe('scrubHeaderEcho', () => {
  it('replaces whole values, bearer credentials and their escaped forms; leaves short values', () => {
    const scrub = scrubHeaderEcho({ authorization: `Bearer ${token}`, 'x-key': 'a b/c+d=e', 'x-id': 'abc' });
    expect(scrub(`got "Bearer ${token}" then ${token}`)).toBe('got "[redacted]" then [redacted]');
    expect(scrub(`q=${encodeURIComponent('a b/c+d=e')}`)).toBe('q=[redacted]');
    expect(scrub('abc stays')).toBe('abc stays');
  });
});

describe('the platform client', () => {
  it('redacts a credential the platform echoes in its error body', async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    agent
      .get('https://spe.example.test')
      .intercept({ path: '/api/system/info', method: 'GET' })
      .reply(401, { type: 'unauthorized', message: `invalid token Bearer ${token}` });
    const client = createDetectorClient({
      baseUrl: 'https://spe.example.test',
      headers: { Authorization: `Bearer ${token}` },
      dispatcher: agent,
    });
    const err = await rejection(client.systemInfo());
    expect(isDetectorHttpError(err)).toBe(true);
    expect((err as Error).message).toContain('invalid token [redacted]');
    expect(JSON.stringify(err)).not.toContain(token);
    expect((err as Error).message).not.toContain(token);
    await agent.close();
  });
});
