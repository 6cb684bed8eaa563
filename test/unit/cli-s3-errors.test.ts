/**
 * What the commands say when S3 refuses or does not answer (`S3RequestError.from`), how the CLI
 * prints it (one line, exit 1), the extension an upload key and a platform file name get from the
 * bytes' type, the channel-option hint and the `--json` failure document. Pure code, no servers.
 */
import { S3ServiceException } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { channelOptionHint, failureJson, reportFailure } from '../../src/starters/cli-support.ts';
import { ExitCode, reportError } from '../../src/starters/exit-codes.ts';
import { extensionForContentType, fileNameFor } from '../../src/storage/media-types.ts';
import { S3RequestError } from '../../src/storage/s3-request-error.ts';

function serviceError(name: string, status: number, message = name): S3ServiceException {
  return new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status }, message });
}

const upload = {
  action: 'cannot upload reference ./ref.wav to',
  bucket: 'media',
  key: 'media/9f.wav',
  bucketSource: 'S3_BUCKET',
  endpoint: 'http://127.0.0.1:7070',
  staticCredentials: true,
};

describe('S3RequestError.from', () => {
  it('a missing bucket names the bucket and the variable, from NoSuchBucket or a HeadBucket 404', () => {
    const err = S3RequestError.from(serviceError('NoSuchBucket', 404), upload);
    expect(err.kind).toBe('no-bucket');
    expect(err.message).toBe(
      'cannot upload reference ./ref.wav to s3://media/media/9f.wav: the bucket "media" does not exist ' +
        '(S3_BUCKET; S3 said NoSuchBucket); create it or name another',
    );
    const bare = S3RequestError.from(serviceError('NotFound', 404, 'UnknownError'), upload, true);
    expect(bare.kind).toBe('no-bucket');
    expect(bare.message).toContain('(S3_BUCKET; S3 said HTTP 404 to HeadBucket)');
  });

  it('refused credentials name the variables (or the SDK chain when none are set)', () => {
    const err = S3RequestError.from(serviceError('SignatureDoesNotMatch', 403), upload);
    expect(err.kind).toBe('credentials');
    expect(err.message).toMatch(
      /S3 refused the credentials \(SignatureDoesNotMatch\); check AWS_ACCESS_KEY_ID \/ AWS_SECRET_ACCESS_KEY$/,
    );
    const chain = S3RequestError.from(serviceError('InvalidAccessKeyId', 403), {
      ...upload,
      staticCredentials: false,
    });
    expect(chain.message).toContain("the SDK's credential chain");
  });

  it("a HEAD's bodiless 403 says it cannot tell credentials from permissions", () => {
    const err = S3RequestError.from(serviceError('Unknown', 403, 'UnknownError'), upload);
    expect(err.kind).toBe('denied');
    expect(err.message).toContain('S3 answered 403 Forbidden without a reason');
    expect(err.message).toContain('bucket "media"');
  });

  it('no answer at all names the endpoint and the socket error', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const err = S3RequestError.from(refused, upload);
    expect(err.kind).toBe('unreachable');
    expect(err.message).toBe(
      'cannot upload reference ./ref.wav to s3://media/media/9f.wav: cannot reach S3 at ' +
        'http://127.0.0.1:7070 (ECONNREFUSED); check S3_ENDPOINT and that the server runs',
    );
    expect(S3RequestError.from(refused, { ...upload, endpoint: undefined }).message).toContain('at AWS');
  });

  it('any other answer quotes S3', () => {
    const err = S3RequestError.from(serviceError('InternalError', 500, 'We encountered an internal error'), {
      action: 'cannot read',
      bucket: 'results',
      key: 'results/x.json',
      bucketSource: '--bucket',
    });
    expect(err.kind).toBe('rejected');
    expect(err.message).toBe(
      'cannot read s3://results/results/x.json: S3 said InternalError: We encountered an internal error (--bucket "results")',
    );
  });

  it('the CLI prints it as one line and exits 1', () => {
    let stderr = '';
    const code = reportError(
      S3RequestError.from(serviceError('NoSuchBucket', 404), upload),
      'rdd detect',
      (t) => {
        stderr += t;
      },
    );
    expect(code).toBe(ExitCode.Failed);
    expect(stderr).toMatch(/^rdd detect: cannot upload reference \.\/ref\.wav to s3:\/\/media\/[^\n]*\n$/);
  });
});

describe('file names from the content type', () => {
  it('maps each detected type to its extension, unknown to none', () => {
    expect(extensionForContentType('audio/wav')).toBe('.wav');
    expect(extensionForContentType('audio/mpeg')).toBe('.mp3');
    expect(extensionForContentType('audio/flac')).toBe('.flac');
    expect(extensionForContentType('audio/ogg')).toBe('.ogg');
    expect(extensionForContentType('application/octet-stream')).toBe('');
    expect(extensionForContentType(undefined)).toBe('');
  });

  it('replaces a media extension that disagrees, keeps any other suffix', () => {
    expect(fileNameFor('9f2c.flac', 'audio/wav')).toBe('9f2c.wav');
    expect(fileNameFor('take.WAV', 'audio/wav')).toBe('take.WAV');
    expect(fileNameFor('call.2024', 'audio/mpeg')).toBe('call.2024.mp3');
    expect(fileNameFor('recording', 'audio/flac')).toBe('recording.flac');
    expect(fileNameFor('dir.v2/recording', 'audio/flac')).toBe('dir.v2/recording.flac');
    expect(fileNameFor('blob.bin', 'application/octet-stream')).toBe('blob.bin');
  });
});

describe('channel hint and --json failures', () => {
  it('names the rdd detect option for the file that needs a channel', () => {
    const failure = {
      type: 'MediaChannelRequired',
      message: 'questioned s3://b/media/9f.wav has 2 channels; choose one (0–1) with its channel option',
    };
    expect(channelOptionHint(failure)).toBe('choose a channel with --questioned-channel <0–1>');
    expect(
      channelOptionHint({
        type: 'MediaChannelOutOfRange',
        message: 'reference s3://b/k has 1 channel(s); channel 3 does not exist (use 0–0)',
      }),
    ).toBe('choose a channel with --reference-channel <0–0>');
    expect(channelOptionHint({ type: 'MediaNotAudio', message: 'questioned s3://b/k is not audio' })).toBe(
      undefined,
    );
    const report = reportFailure(failure, { workflowId: 'detect-1', json: false, channelHint: true });
    // Said once: the option replaces the generic wording instead of a second "choose" clause.
    expect(report.message).toBe(
      'detection detect-1 failed: MediaChannelRequired: questioned s3://b/media/9f.wav has 2 channels; ' +
        'choose one (0–1) with --questioned-channel',
    );
    const outOfRange = reportFailure(
      {
        type: 'MediaChannelOutOfRange',
        message: 'reference s3://b/k has 1 channel(s); channel 3 does not exist (use 0–0)',
      },
      { workflowId: 'detect-1', json: false, channelHint: true },
    );
    expect(outOfRange.message).toMatch(/\(use 0–0\); choose a channel with --reference-channel <0–0>$/);
  });

  it('--json prints workflowId, state and failure for every failure, not only ResultNotRecorded', () => {
    const report = reportFailure(
      { type: 'MediaNotAudio', message: 'questioned s3://b/k is not audio' },
      { workflowId: 'detect-1', json: true },
    );
    expect(JSON.parse(report.stdout!)).toEqual({
      workflowId: 'detect-1',
      state: 'failed',
      failure: { type: 'MediaNotAudio', message: 'questioned s3://b/k is not audio' },
    });
    expect(reportFailure({ type: 'X', message: 'y' }, { workflowId: 'd', json: false }).stdout).toBe(
      undefined,
    );
    expect(JSON.parse(failureJson(null, 'not-started', { type: 'S3RequestError', message: 'm' }))).toEqual({
      workflowId: null,
      state: 'not-started',
      failure: { type: 'S3RequestError', message: 'm' },
    });
  });
});
