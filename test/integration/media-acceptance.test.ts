/**
 * One list of real-world recordings (test/helpers/real-world-audio.ts) through both gates a user's
 * file meets: our `inspectMedia` (against the real S3 of the test global setup) and the platform
 * (the emulator over HTTP). They must agree with each other and with the list on what is accepted,
 * so a file is never refused by us and taken by the platform, or passed by us and then refused.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { inspectMedia } from '../../src/activities/inspect-media.ts';
import { probeMedia } from '../../dev/emulator/media-probe.ts';
import { RDD_ENDPOINT, startEmulator, type RunningEmulator } from '../../dev/emulator/index.ts';
import type { InspectedMedia, MediaRef } from '../../src/shared/media.ts';
import { realWorldRecordings, type RealWorldRecording } from '../helpers/real-world-audio.ts';
import { s3Client, testServices } from '../helpers/services.ts';

const s3 = s3Client();
const prefix = `media-acceptance-${Date.now().toString(36)}`;
const limits = { maxUploadBytes: 50 * 1000 * 1000, maxAudioSeconds: 7200 };
let bucket: string;
let emulator: RunningEmulator;
// Made (or found in the cache) while the file is collected, so each recording gets its own test.
const recordings: RealWorldRecording[] = await realWorldRecordings();

beforeAll(async () => {
  bucket = testServices().s3.bucket;
  emulator = await startEmulator({ processing: { fixedMs: 20 } });
});

afterAll(async () => {
  await emulator?.close();
});

/** How one gate treated a recording: accepted, or refused with its message. */
type Verdict = { accepted: true } | { accepted: false; message: string };

/** Uploads the file under its own (possibly misleading) name and runs the inspection on it. */
async function inspection(recording: RealWorldRecording): Promise<Verdict> {
  const media: MediaRef = {
    bucket,
    key: `${prefix}/${recording.name}/${basename(recording.file)}`,
    ...(recording.channel !== undefined && { channel: recording.channel }),
  };
  await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: media.key, Body: await readFile(recording.file) }),
  );
  try {
    await new MockActivityEnvironment().run<
      Parameters<typeof inspectMedia>,
      InspectedMedia,
      typeof inspectMedia
    >(inspectMedia, { s3, limits }, { media, role: 'questioned' });
    return { accepted: true };
  } catch (err) {
    if (err instanceof ApplicationFailure && err.nonRetryable)
      return { accepted: false, message: err.message };
    throw err;
  }
}

/**
 * Sends the file as both reference and questioned, with its channel when it has one, and waits for
 * the task. `done` is acceptance; a 422 or a `rejected` task is refusal; anything else fails the test.
 */
async function platform(recording: RealWorldRecording): Promise<Verdict> {
  const bytes = await readFile(recording.file);
  const form = new FormData();
  for (const field of ['file_reference', 'file_questioned']) {
    form.append(field, new Blob([bytes]), basename(recording.file));
  }
  const query =
    recording.channel === undefined
      ? ''
      : `?reference_channel=${recording.channel}&questioned_channel=${recording.channel}`;
  const response = await fetch(`${emulator.url}${RDD_ENDPOINT}${query}`, { method: 'POST', body: form });
  const body = (await response.json()) as { message?: string };
  if (response.status === 422) return { accepted: false, message: body.message ?? '' };
  expect(response.status, JSON.stringify(body)).toBe(202);
  const location = response.headers.get('location') as string;
  const deadline = Date.now() + 20_000;
  for (;;) {
    const task = (await (await fetch(location)).json()) as {
      task: { state: string };
      error?: { message: string };
    };
    if (task.task.state === 'done') return { accepted: true };
    if (task.task.state === 'rejected') return { accepted: false, message: task.error?.message ?? '' };
    expect(task.task.state, `${recording.name}: ${JSON.stringify(task)}`).not.toBe('failed');
    if (Date.now() > deadline) throw new Error(`${recording.name}: the task did not finish`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('inspection and platform agree on real-world recordings', () => {
  it('covers every kind of recording the issue lists', () => {
    const names = recordings.map((r) => r.name);
    expect(names).toEqual(
      expect.arrayContaining([
        ...['wav-pcm8', 'wav-pcm16', 'wav-pcm24', 'wav-pcm32', 'wav-float32', 'wav-mulaw-8k', 'wav-alaw-8k'],
        ...['wav-ima-adpcm-8k', 'wav-ms-adpcm-8k', 'wav-extensible', 'wav-rf64', 'wav-unpadded-list'],
        ...['wav-named-mp3', 'mp3-named-wav', 'mp3-vbr-no-xing', 'flac', 'ogg-opus', 'wav-stereo'],
        ...['ogg-vorbis', 'text-named-wav', 'aac-m4a', 'aiff'],
        ...['phone-pcm16-8k', 'phone-pcm8-8k', 'phone-gsm-8k', 'phone-g726-8k', 'phone-mp3-8k'],
        ...['voice-note-opus-16k', 'voice-note-opus-48k', 'webm-opus', 'meeting-m4a-aac'],
        ...['long-silence', 'silence-only', 'faint-noise-only', 'loud-noise-only'],
      ]),
    );
    expect(recordings.some((r) => r.accepted) && recordings.some((r) => !r.accepted)).toBe(true);
  });

  // One test per recording, named after it, so a disagreement names the file.
  it.each(recordings.map((r) => [r.name, r] as const))('%s', async (name, recording) => {
    const { accepted, expected, description } = recording;
    const [ours, theirs] = await Promise.all([inspection(recording), platform(recording)]);
    const label = `${name} (${description})`;
    expect(theirs, `emulator on ${label}`).toMatchObject({ accepted });
    expect(ours, `inspectMedia on ${label}`).toMatchObject({ accepted });
    if (expected) {
      // The emulator reads the same format from the bytes as the list says is there.
      const probe = await probeMedia(new Uint8Array(await readFile(recording.file)));
      expect(probe, label).toMatchObject({
        codec: expected.codec,
        channels: expected.channels,
        sampleRate: expected.sampleRate,
      });
      // ±0.1 s, plus for ADPCM the encoder's silent padding of the last block (≤ 1017 samples at
      // 8 kHz here): no header states the true length, and FFmpeg decodes the padding too.
      const slack = /ADPCM/.test(expected.codec) ? 0.13 : 0;
      expect(probe.durationSeconds - expected.durationSeconds, label).toBeGreaterThan(-0.1);
      expect(probe.durationSeconds - expected.durationSeconds, label).toBeLessThan(0.1 + slack);
    }
  });
});
