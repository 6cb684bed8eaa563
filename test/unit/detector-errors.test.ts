/**
 * The detector errors share one base class, keep their explicit names and stable codes, and their
 * guards also recognise copies from another install of the module (matching on the code).
 */
import { describe, expect, it } from 'vitest';
import {
  DetectorError,
  DetectorErrorCode,
  DetectorHttpError,
  DetectorOriginError,
  DetectorProtocolError,
  DetectorUploadSizeError,
  isDetectorError,
  isDetectorHttpError,
  isDetectorOriginError,
  isDetectorProtocolError,
  isDetectorUploadSizeError,
} from '../../src/activities/detector/index.ts';

const url = 'http://platform.test:8000/api/technology/deepfake-detection-referential';
const errors = {
  DetectorHttpError: new DetectorHttpError({ operation: 'submit', status: 503, method: 'POST', url }),
  DetectorProtocolError: new DetectorProtocolError({
    operation: 'submit',
    status: 202,
    method: 'POST',
    url,
    reason: 'body is not JSON',
  }),
  DetectorOriginError: new DetectorOriginError({
    operation: 'submit',
    source: 'Location',
    offeredOrigin: 'http://10.0.0.7:8000',
    allowedOrigins: ['http://platform.test:8000'],
  }),
  DetectorUploadSizeError: new DetectorUploadSizeError('file_reference', 10, 9),
};
const guards = [
  isDetectorHttpError,
  isDetectorProtocolError,
  isDetectorOriginError,
  isDetectorUploadSizeError,
];

describe('DetectorError', () => {
  it.each(Object.entries(errors))('%s extends DetectorError and keeps its own name', (name, err) => {
    expect(err).toBeInstanceOf(DetectorError);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe(name);
    expect(isDetectorError(err)).toBe(true);
  });

  it('gives each subclass its own code, all from DetectorErrorCode', () => {
    const codes = Object.values(errors).map((err) => err.code);
    expect(new Set(codes).size).toBe(codes.length);
    expect([...codes].sort()).toEqual(Object.values(DetectorErrorCode).sort());
  });

  it('each guard accepts its own class only', () => {
    const all = Object.values(errors);
    for (const [i, guard] of guards.entries()) {
      expect(all.map((err) => guard(err))).toEqual(all.map((_, j) => i === j));
    }
  });

  it('recognises an error from another copy of the module by its code, and nothing else', () => {
    const copy = Object.assign(new Error('from a duplicate install'), { code: DetectorErrorCode.Protocol });
    expect(isDetectorError(copy)).toBe(true);
    expect(isDetectorProtocolError(copy)).toBe(true);
    expect(isDetectorHttpError(copy)).toBe(false);
    expect(isDetectorError(new TypeError('fetch failed'))).toBe(false);
    expect(isDetectorError(Object.assign(new Error('socket'), { code: 'ECONNRESET' }))).toBe(false);
    expect(isDetectorError({ code: DetectorErrorCode.Http, message: 'not an Error' })).toBe(false);
  });
});
