import { describe, expect, it } from 'vitest';
import { eventRuleProblems, matchEventRule, parseEventRules } from '../../src/shared/event-rules.ts';
import { s3EventDetectionId } from '../../src/client/object-detections.ts';

const rules = parseEventRules([
  { match: 'calls/{customer}/{call}.wav', reference: 'references/{customer}.wav' },
  {
    match: 'archive/{path*}/q.mp3',
    reference: 'refs/{path}.wav',
    referenceBucket: 'refs',
    questionedChannel: 1,
    threshold: 0.5,
  },
  { match: 'only-b/{x}.wav', reference: 'r/{x}.wav', bucket: 'bkt-b' },
]);

describe('matchEventRule', () => {
  it('maps one segment per {name} to the reference in the same bucket', () => {
    expect(matchEventRule(rules, { bucket: 'media', key: 'calls/acme/42.wav' })).toEqual({
      ruleIndex: 0,
      captures: { customer: 'acme', call: '42' },
      input: {
        reference: { bucket: 'media', key: 'references/acme.wav' },
        questioned: { bucket: 'media', key: 'calls/acme/42.wav' },
      },
    });
  });

  it('does not let {name} span segments, nor match a longer or shorter key', () => {
    expect(matchEventRule(rules, { bucket: 'media', key: 'calls/acme/x/42.wav' })).toBeUndefined();
    expect(matchEventRule(rules, { bucket: 'media', key: 'calls/acme/42.wav.bak' })).toBeUndefined();
    expect(matchEventRule(rules, { bucket: 'media', key: 'calls//42.wav' })).toBeUndefined();
  });

  it('treats regex characters in literals literally', () => {
    expect(matchEventRule(rules, { bucket: 'media', key: 'calls/acme/42xwav' })).toBeUndefined();
  });

  it('lets {name*} span segments and applies bucket, channel and threshold options', () => {
    expect(matchEventRule(rules, { bucket: 'media', key: 'archive/2024/01/q.mp3' })?.input).toEqual({
      reference: { bucket: 'refs', key: 'refs/2024/01.wav' },
      questioned: { bucket: 'media', key: 'archive/2024/01/q.mp3', channel: 1 },
      threshold: 0.5,
    });
  });

  it('honours a rule bucket', () => {
    expect(matchEventRule(rules, { bucket: 'bkt-a', key: 'only-b/1.wav' })).toBeUndefined();
    expect(matchEventRule(rules, { bucket: 'bkt-b', key: 'only-b/1.wav' })?.ruleIndex).toBe(2);
  });

  it('never compares the reference with itself', () => {
    const self = parseEventRules([{ match: 'x/{a}.wav', reference: 'x/{a}.wav' }]);
    expect(matchEventRule(self, { bucket: 'm', key: 'x/1.wav' })).toBeUndefined();
  });
});

describe('eventRuleProblems', () => {
  it('accepts a list or { rules }', () => {
    expect(eventRuleProblems({ rules: [{ match: 'a/{x}', reference: 'b/{x}' }] })).toEqual([]);
  });

  it('reports every problem with its path', () => {
    const problems = eventRuleProblems([
      { match: 'calls/{c}.wav', reference: 'refs/{x}.wav' },
      { match: 'a/{x}{y}', reference: 'r', questionedChannel: -1, threshold: 'high', colour: 1 },
      { match: 'a/{x}/{x}', reference: 'r/{', bucket: 'Bad_Bucket' },
      'nope',
    ]);
    expect(problems).toEqual(
      expect.arrayContaining([
        'rules[0].reference "refs/{x}.wav" uses {x}, which match does not define',
        expect.stringContaining('rules[1].colour is not a rule field'),
        'rules[1].questionedChannel must be a 0-based integer channel index',
        'rules[1].threshold must be a finite number',
        expect.stringContaining('rules[1].match has {x} and {y} side by side'),
        'rules[2].match names {x} twice',
        expect.stringContaining('rules[2].reference "r/{": a brace outside'),
        expect.stringContaining('rules[2].bucket'),
        'rules[3] must be an object with match and reference',
      ]),
    );
    expect(() => parseEventRules('x')).toThrow(/rules must be a JSON array/);
  });
});

describe('s3EventDetectionId', () => {
  it('is the same for a quoted and an unquoted ETag and differs per version', () => {
    const a = s3EventDetectionId({ bucket: 'm', key: 'k', etag: '"abc"' });
    expect(a).toMatch(/^s3evt-[0-9a-f]{32}$/);
    expect(s3EventDetectionId({ bucket: 'm', key: 'k', etag: 'abc' })).toBe(a);
    expect(s3EventDetectionId({ bucket: 'm', key: 'k', etag: 'abd' })).not.toBe(a);
    expect(s3EventDetectionId({ bucket: 'm', key: 'k2', etag: 'abc' })).not.toBe(a);
    expect(s3EventDetectionId({ bucket: 'm', key: 'k', versionId: 'v1' })).not.toBe(
      s3EventDetectionId({ bucket: 'm', key: 'k', versionId: 'v2' }),
    );
  });
});
