/**
 * `rdd serve` / `rdd codec-server` (fastify's pino with jsonLogOptions) and `rdd worker`
 * (JsonLogger) write the same line shape: `level` as a label, `time` as ISO 8601, `message`.
 */
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { jsonLogOptions } from '../../src/api/log-format.ts';
import { JsonLogger } from '../../src/telemetry/json-logger.ts';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The fields every line of every service has, with their types, as one jq filter reads them. */
function shape(line: Record<string, unknown>) {
  return {
    level: line.level,
    timeIsIso: typeof line.time === 'string' && ISO.test(line.time),
    message: line.message,
    pinoKeys: ['msg', 'pid', 'hostname'].filter((key) => key in line),
  };
}

async function fastifyLines(): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const app = Fastify({ logger: { ...jsonLogOptions('info'), stream } });
  app.get('/ping', () => 'pong');
  await app.ready();
  app.log.warn({ taskQueue: 'q' }, 'something to see');
  await app.inject({ method: 'GET', url: '/ping' });
  await app.close();
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('one log line shape for the API and the worker', () => {
  it('fastify with jsonLogOptions writes level labels, ISO time and message', async () => {
    const lines = await fastifyLines();
    expect(shape(lines[0]!)).toEqual({
      level: 'warn',
      timeIsIso: true,
      message: 'something to see',
      pinoKeys: [],
    });
    expect(lines[0]!.taskQueue).toBe('q');
    // The request lines too.
    const request = lines.find((line) => line.message === 'incoming request');
    expect(request && shape(request)).toEqual({
      level: 'info',
      timeIsIso: true,
      message: 'incoming request',
      pinoKeys: [],
    });
  });

  it('the worker’s JsonLogger writes the same shape', async () => {
    const worker: string[] = [];
    new JsonLogger({ level: 'INFO', write: (line) => void worker.push(line) }).warn('something to see', {
      taskQueue: 'q',
    });
    const workerLine = JSON.parse(worker[0]!) as Record<string, unknown>;
    const [apiLine] = await fastifyLines();
    expect(shape(workerLine)).toEqual(shape(apiLine!));
    expect(Object.keys(workerLine).sort()).toEqual(Object.keys(apiLine!).sort());
  });
});
