/**
 * The inspectMedia activity against real recordings in a real S3 (versitygw), stored with a WRONG or
 * generic Content-Type and often a wrong extension: the container, codec and duration must come
 * from the bytes, and every refusal must say what is wrong and what would work.
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { inspectMedia, type MediaLimits } from '../../src/activities/inspect-media.ts';
import type { InspectMediaInput } from '../../src/shared/activity-types.ts';
import { sniffContentType } from '../../src/activities/media-sniff.ts';
import { fileExists, runTool, writeAtomically } from '../../dev/demo/speech-synthesis.ts';
import { FailureType } from '../../src/shared/failure-types.ts';
import type { InspectedMedia, MediaRef } from '../../src/shared/media.ts';
import { realWorldRecordings, type RealWorldRecording } from '../helpers/real-world-audio.ts';
import { rejection } from '../helpers/rejection.ts';
import { s3Client, testServices } from '../helpers/services.ts';

const limits: MediaLimits = { maxUploadBytes: 1e9, maxAudioSeconds: 7200 };
const prefix = `inspect-media-${randomUUID().slice(0, 8)}`;
let s3: S3Client;
let bucket: string;
let recordings: RealWorldRecording[];

/** Runs the activity as a worker would (in an activity context), over the given S3 client. */
function inspect(client: S3Client, input: InspectMediaInput): Promise<InspectedMedia> {
  return new MockActivityEnvironment().run(inspectMedia, { s3: client, limits }, input);
}

/** Where each duration must come from; every other accepted recording says it in its header. */
const DURATION_SOURCES: Record<string, string> = {
  'mp3-vbr-no-xing': 'frame-scan',
  'mp3-cbr': 'frame-scan',
  'mp3-named-wav': 'frame-scan',
  'mp3-id3v2': 'frame-scan',
  // lame writes no Info frame for this 8 kHz CBR either.
  'phone-mp3-8k': 'frame-scan',
  // total_samples 0 in STREAMINFO: counted from the last frame's number (review 5, item 6).
  'flac-streamed': 'frame-scan',
};

/** What a refusal must name: what the file is, and what would work. */
const REFUSALS: Record<string, { found: RegExp; works: RegExp }> = {
  'ogg-vorbis': {
    found: /is Ogg\/Vorbis audio/,
    works: /takes Ogg only with the Opus codec.*libopus.*WAV, MP3 or FLAC/,
  },
  'text-named-wav': {
    found: /is not a recognised audio format \(it starts with the text "This is a text/,
    works: /Ogg\/Opus/,
  },
  'aac-m4a': { found: /is MP4\/M4A audio .*usually AAC/, works: /takes WAV .*MP3, FLAC or Ogg\/Opus/ },
  aiff: {
    found: /is AIFF audio, which the platform does not list/,
    works: /takes WAV .*MP3, FLAC or Ogg\/Opus/,
  },
  'phone-gsm-8k': {
    found: /is WAVE\/GSM 6\.10 audio, a WAV codec the platform does not take/,
    works: /convert it \(ffmpeg -i in\.wav -c:a pcm_s16le out\.wav\) or use MP3, FLAC or Ogg\/Opus/,
  },
  'phone-g726-8k': {
    found: /is WAVE\/G\.726 ADPCM audio \(format tag 0x0045\)/,
    works: /takes IMA ADPCM \(0x0011\) or MS ADPCM \(0x0002\) among ADPCM WAVs: convert it/,
  },
  'webm-opus': {
    found: /is a Matroska\/WebM file, which the platform does not take/,
    works: /takes WAV .*MP3, FLAC or Ogg\/Opus: convert it/,
  },
  'meeting-m4a-aac': {
    found: /is MP4\/M4A audio .*usually AAC/,
    works: /takes WAV .*MP3, FLAC or Ogg\/Opus/,
  },
};

const MIME_TYPES: Record<string, string> = {
  WAVE: 'audio/wav',
  RF64: 'audio/wav',
  MPEG: 'audio/mpeg',
  FLAC: 'audio/flac',
  Ogg: 'audio/ogg',
};

/** Content-Types that lie about the bytes, as uploaders by extension and generic tools set them. */
const WRONG_TYPES = ['audio/mpeg', 'application/octet-stream', 'binary/octet-stream', 'audio/wav'];

async function put(name: string, body: Uint8Array, contentType: string): Promise<MediaRef> {
  const key = `${prefix}/${randomUUID().slice(0, 8)}/${name}`;
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
  return { bucket, key };
}

async function failure(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await rejection(promise);
  if (!(err instanceof ApplicationFailure)) throw err;
  return err;
}

/** An S3 client that counts ranged GETs and the bytes they asked for. */
function counting(client: S3Client): { s3: S3Client; gets: () => number; bytes: () => number } {
  let gets = 0;
  let bytes = 0;
  const wrapped = {
    send: (command: unknown, options?: unknown) => {
      if (command instanceof GetObjectCommand) {
        gets++;
        const [first, last] = (command.input.Range ?? '').replace('bytes=', '').split('-').map(Number);
        bytes += (last ?? 0) - (first ?? 0) + 1;
      }
      return client.send(command as never, options as never);
    },
  } as unknown as S3Client;
  return { s3: wrapped, gets: () => gets, bytes: () => bytes };
}

/** A long recording made once per machine: `repeats` × the base speech, then `encode`. */
async function longRecording(
  name: string,
  repeats: number,
  encode?: (wav: string, out: string) => Promise<void>,
) {
  const base = recordings.find((r) => r.name === 'wav-pcm16')!;
  const dir = path.join(os.tmpdir(), 'rdd-inspect-media-long-v1');
  const wav = path.join(dir, `long-${repeats}.wav`);
  if (!(await fileExists(wav))) {
    await writeAtomically(wav, (tmp) =>
      runTool('sox', ['-R', base.file, tmp, 'repeat', String(repeats - 1)]),
    );
  }
  if (!encode) return { file: wav, seconds: repeats * base.expected!.durationSeconds };
  const out = path.join(dir, name);
  if (!(await fileExists(out))) await writeAtomically(out, (tmp) => encode(wav, tmp));
  return { file: out, seconds: repeats * base.expected!.durationSeconds };
}

beforeAll(async () => {
  s3 = s3Client();
  bucket = testServices().s3.bucket;
  recordings = await realWorldRecordings();
}, 120_000);

describe('inspectMedia decides from the bytes', () => {
  it('covers every kind of recording the issue lists', () => {
    const names = recordings.map((r) => r.name);
    for (const name of [
      'wav-pcm16',
      'wav-pcm8',
      'wav-pcm24',
      'wav-pcm32',
      'wav-float32',
      'wav-mulaw-8k',
      'wav-alaw-8k',
      'wav-ima-adpcm-8k',
      'wav-ms-adpcm-8k',
      'wav-extensible',
      'wav-rf64',
      'wav-unpadded-list',
      'wav-named-mp3',
      'mp3-named-wav',
      'mp3-vbr-no-xing',
      'mp3-cbr',
      'mp3-id3v2',
      'flac',
      'flac-streamed',
      'ogg-opus',
      'ogg-vorbis',
      'wav-stereo',
      'text-named-wav',
      'aac-m4a',
    ]) {
      expect(names).toContain(name);
    }
  });

  for (const contentType of WRONG_TYPES) {
    it(`reads every accepted recording stored as ${contentType} under its user's file name`, async () => {
      for (const recording of recordings.filter((r) => r.accepted)) {
        const expected = recording.expected!;
        const media = await put(path.basename(recording.file), await readFile(recording.file), contentType);
        const info: InspectedMedia = await inspect(s3, {
          media: { ...media, ...(recording.channel !== undefined && { channel: recording.channel }) },
          role: 'questioned',
        });
        const got = {
          name: recording.name,
          container: info.container,
          codec: info.codec,
          channels: info.channels,
          sampleRate: info.sampleRate,
          durationSource: info.durationSource,
        };
        expect(got).toEqual({
          name: recording.name,
          container: expected.container,
          codec: expected.codec,
          channels: expected.channels,
          sampleRate: expected.sampleRate,
          durationSource: DURATION_SOURCES[recording.name] ?? 'header',
        });
        expect(Math.abs(info.durationSeconds - expected.durationSeconds), recording.name).toBeLessThan(0.15);
        // The platform is told the format of the bytes, not the Content-Type the object was stored with.
        expect([info.contentType, info.storedContentType]).toEqual([
          MIME_TYPES[expected.container],
          contentType,
        ]);
      }
    });
  }

  it('refuses what the platform does not take, saying what it is and what would work', async () => {
    for (const recording of recordings.filter((r) => !r.accepted)) {
      const refusal = REFUSALS[recording.name];
      expect(refusal, `a refusal pattern for ${recording.name}`).toBeDefined();
      // The extension-derived type would say "audio" for all of these; store them as the uploader did.
      const media = await put(path.basename(recording.file), await readFile(recording.file), 'audio/ogg');
      const err = await failure(inspect(s3, { media, role: 'questioned' }));
      expect([recording.name, err.type, err.nonRetryable]).toEqual([
        recording.name,
        FailureType.MediaNotAudio,
        true,
      ]);
      expect(err.message).toContain(`questioned s3://${bucket}/${media.key} `);
      expect(err.message).toMatch(refusal!.found);
      expect(err.message).toMatch(refusal!.works);
    }
  });

  it('asks for a channel of a stereo recording', async () => {
    const stereo = recordings.find((r) => r.name === 'wav-stereo')!;
    const media = await put('stereo.mp3', await readFile(stereo.file), 'audio/mpeg');
    const err = await failure(inspect(s3, { media, role: 'reference' }));
    expect(err.type).toBe(FailureType.MediaChannelRequired);
    expect(err.message).toContain(`reference s3://${bucket}/${media.key} has 2 channels`);
  });

  it('refuses a WAV codec the platform does not list, naming the ones it does', async () => {
    const base = await readFile(recordings.find((r) => r.name === 'wav-pcm16')!.file);
    const gsm = Buffer.from(base);
    gsm.writeUInt16LE(0x0031, 20); // the fmt chunk's format tag: GSM 6.10
    const media = await put('gsm.wav', gsm, 'audio/wav');
    const err = await failure(inspect(s3, { media, role: 'reference' }));
    expect(err.type).toBe(FailureType.MediaNotAudio);
    expect(err.message).toContain('is WAVE/GSM 6.10 audio, a WAV codec the platform does not take');
    expect(err.message).toContain('PCM (8–32 bit), float, A-law, µ-law or ADPCM');
  });

  it('says a PCM WAV with an empty data chunk has no audio, without a pointless conversion hint', async () => {
    const base = await readFile(recordings.find((r) => r.name === 'wav-pcm16')!.file);
    const empty = Buffer.from(base.subarray(0, 44)); // sox's canonical 44-byte header, no samples
    empty.writeUInt32LE(36, 4);
    empty.writeUInt32LE(0, 40);
    const media = await put('empty.wav', empty, 'audio/wav');
    const err = await failure(inspect(s3, { media, role: 'questioned' }));
    expect(err.type).toBe(FailureType.MediaNotAudio);
    expect(err.message).toBe(
      `questioned s3://${bucket}/${media.key} is a WAVE/PCM file that has no audio (empty data chunk)`,
    );
  });

  it.each([0x0045, 0x0064, 0x0040])(
    'names ADPCM format tag %i (decimal) and the two ADPCM variants the platform takes',
    async (tag) => {
      const base = await readFile(recordings.find((r) => r.name === 'wav-pcm16')!.file);
      const adpcm = Buffer.from(base);
      adpcm.writeUInt16LE(tag, 20);
      const media = await put('g726.wav', adpcm, 'audio/wav');
      const err = await failure(inspect(s3, { media, role: 'reference' }));
      expect(err.type).toBe(FailureType.MediaNotAudio);
      const name = tag === 0x0040 ? 'G.721 ADPCM' : 'G.726 ADPCM';
      expect(err.message).toContain(
        `is WAVE/${name} audio (format tag 0x${tag.toString(16).padStart(4, '0')}); ` +
          'the platform takes IMA ADPCM (0x0011) or MS ADPCM (0x0002)',
      );
      expect(err.message).toContain('-c:a adpcm_ima_wav');
    },
  );

  it('takes MP2 for what it is, not MP3', async () => {
    const base = recordings.find((r) => r.name === 'wav-pcm16')!;
    const mp2 = path.join(os.tmpdir(), 'rdd-inspect-media-long-v1', 'speech.mp2');
    if (!(await fileExists(mp2))) {
      await writeAtomically(mp2, (tmp) =>
        runTool('ffmpeg', ['-loglevel', 'error', '-y', '-i', base.file, '-c:a', 'mp2', '-f', 'mp2', tmp]),
      );
    }
    const media = await put('speech.mp3', await readFile(mp2), 'audio/mpeg');
    const err = await failure(inspect(s3, { media, role: 'reference' }));
    expect(err.type).toBe(FailureType.MediaNotAudio);
    expect(err.message).toMatch(/is MPEG 2 Layer 2 audio \(MP2\), not MP3; .*libmp3lame/);
  });
});

describe('inspectMedia stays bounded on long files', () => {
  it('reads one 256 KiB block of a 20-minute WAV', async () => {
    const { file, seconds } = await longRecording('long.wav', 450);
    const media = await put('long.mp3', await readFile(file), 'application/octet-stream');
    const probe = counting(s3);
    const info = await inspect(probe.s3, { media, role: 'reference' });
    expect(info.durationSeconds).toBeCloseTo(seconds, 3);
    expect(info.durationSource).toBe('header');
    expect([probe.gets(), probe.bytes()]).toEqual([1, 256 * 1024]);
  }, 120_000);

  it('scans the frames of a 2-minute VBR MP3 without Xing, and estimates a 20-minute one within a budget', async () => {
    const lameNoXing = (wav: string, out: string) => runTool('lame', ['--quiet', '-V', '4', '-t', wav, out]);
    const short = await longRecording('vbr-45.mp3', 45, lameNoXing);
    const shortInfo = await inspect(s3, {
      media: await put('short.wav', await readFile(short.file), 'audio/wav'),
      role: 'reference',
    });
    expect(shortInfo.durationSource).toBe('frame-scan');
    expect(Math.abs(shortInfo.durationSeconds - short.seconds)).toBeLessThan(0.15);

    const long = await longRecording('vbr-450.mp3', 450, lameNoXing);
    const media = await put('long.wav', await readFile(long.file), 'binary/octet-stream');
    const probe = counting(s3);
    const info = await inspect(probe.s3, { media, role: 'reference' });
    expect(info.durationSource).toBe('bitrate-estimate');
    expect(Math.abs(info.durationSeconds - long.seconds) / long.seconds).toBeLessThan(0.03);
    // The frame scan stops at its 4 MiB budget: 16 or 17 blocks of 256 KiB, never the whole file.
    expect(probe.bytes()).toBeLessThanOrEqual(4.5 * 1024 * 1024);
    expect(probe.gets()).toBeLessThanOrEqual(18);
    expect((await readFile(long.file)).length).toBeGreaterThan(8 * 1024 * 1024);
  }, 180_000);
});

describe('sniffContentType', () => {
  it('names the format of the bytes, whatever the file is called', async () => {
    const byName = Object.fromEntries(recordings.map((r) => [r.name, r]));
    const type = async (name: string) => sniffContentType(await readFile(byName[name]!.file));
    expect(await type('wav-named-mp3')).toBe('audio/wav');
    expect(await type('wav-rf64')).toBe('audio/wav');
    expect(await type('mp3-named-wav')).toBe('audio/mpeg');
    expect(await type('mp3-id3v2')).toBe('audio/mpeg');
    expect(await type('flac')).toBe('audio/flac');
    expect(await type('ogg-opus')).toBe('audio/ogg');
    expect(await type('aac-m4a')).toBe('audio/mp4');
    expect(await type('text-named-wav')).toBe('application/octet-stream');
  });
});

describe('inspectMedia tells a missing bucket from a missing object, and names S3 outages', () => {
  it('says "no object K in bucket B" for a missing key', async () => {
    const key = `${prefix}/missing.wav`;
    const err = await failure(inspect(s3, { media: { bucket, key }, role: 'reference' }));
    expect([err.type, err.nonRetryable]).toEqual([FailureType.MediaNotFound, true]);
    expect(err.message).toBe(
      `reference s3://${bucket}/${key} does not exist: no object ${key} in bucket ${bucket} (NotFound)`,
    );
  });

  it('says the bucket does not exist when it is the bucket that is missing (HEAD 404 either way)', async () => {
    const missing = `rdd-missing-${randomUUID().slice(0, 8)}`;
    const err = await failure(
      inspect(s3, { media: { bucket: missing, key: 'calls/a.wav' }, role: 'questioned' }),
    );
    expect([err.type, err.nonRetryable]).toEqual([FailureType.MediaNotFound, true]);
    expect(err.message).toBe(
      `questioned s3://${missing}/calls/a.wav: the bucket ${missing} does not exist (NoSuchBucket); ` +
        'create it or check the name',
    );
  });

  it('turns a refused connection into a retryable StorageUnavailable naming the role and object', async () => {
    const { s3: services } = testServices();
    const unreachable = new S3Client({
      endpoint: 'http://127.0.0.1:9',
      region: services.region,
      forcePathStyle: true,
      credentials: { accessKeyId: services.accessKeyId, secretAccessKey: services.secretAccessKey },
      maxAttempts: 1,
    });
    try {
      const err = await failure(
        inspect(unreachable, { media: { bucket, key: 'calls/a.wav' }, role: 'reference' }),
      );
      expect([err.type, err.nonRetryable]).toEqual([FailureType.StorageUnavailable, false]);
      expect(err.message).toMatch(
        new RegExp(
          `^S3 could not be reached for reference s3://${bucket}/calls/a\\.wav \\(will retry\\): ECONNREFUSED`,
        ),
      );
    } finally {
      unreachable.destroy();
    }
  });
});
