/**
 * Usage and configuration mistakes a new user made (review of issue 6), each run as a user runs
 * it, through `node src/starters/rdd.ts`: every one must exit 2 with one message naming what was
 * wrong, before anything is uploaded or started (TEMPORAL_ADDRESS points nowhere or is invalid, so
 * a command that got further would fail differently), and a closed stdout pipe is not a crash.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/starters/exit-codes.ts';

const RDD = fileURLToPath(new URL('../../src/starters/rdd.ts', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `rdd args` with `env` over the test's environment; `closeStdout` closes the read end of
 * stdout at once, as `| head -2` does once it has its lines.
 */
function rdd(args: string[], env: Record<string, string> = {}, closeStdout = false): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RDD, ...args], {
      env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    if (closeStdout) child.stdout.destroy();
    else child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('rdd detect', () => {
  it.concurrent.each([
    ['--json without --wait', ['--json'], 'rdd detect: --json needs --wait'],
    [
      '--json and --timeout without --wait',
      ['--json', '--timeout', '5'],
      'rdd detect: --timeout and --json need --wait',
    ],
    [
      '--id given twice',
      ['--id', 'a', '--id', 'b'],
      "rdd detect: option '--id <id>' argument 'b' is invalid. Given more than once; give it once.",
    ],
    [
      '--threshold given twice',
      ['--threshold', '1', '--threshold', '2'],
      "rdd detect: option '--threshold <llr>' argument '2' is invalid. Given more than once; give it once.",
    ],
  ])('%s exits 2', async (_, flags, line) => {
    const run = await rdd(['detect', 's3://media-bucket/r.wav', 's3://media-bucket/q.wav', ...flags]);
    expect(run.stderr.split('\n')[0]).toBe(line);
    expect(run.stdout).toBe('');
    expect(run.code).toBe(ExitCode.Usage);
  });

  it('an invalid TEMPORAL_ADDRESS is a configuration error naming it, exit 2', async () => {
    const run = await rdd(['detect', 's3://media-bucket/r.wav', 's3://media-bucket/q.wav'], {
      TEMPORAL_ADDRESS: '::::',
    });
    expect(run.stderr).toContain('TEMPORAL_ADDRESS must be host or host:port');
    expect(run.stderr).toContain('got "::::"');
    expect(run.stderr).not.toContain('TypeError');
    expect(run.code).toBe(ExitCode.Usage);
  });
});

describe('rdd result', () => {
  it.concurrent.each([
    ['an id with "/"', ['a/b'], /^rdd result: workflowId "a\/b" is not usable: "\/" is not allowed/],
    [
      'an invalid --bucket',
      ['x', '--bucket', 'Bad_Bucket'],
      /^rdd result: --bucket "Bad_Bucket" is not a valid S3 bucket name/,
    ],
    ['an absolute --key', ['x', '--key', '/abs'], /^rdd result: --key "\/abs" is not a usable S3 object key/],
    [
      '--key given twice',
      ['x', '--key', 'a', '--key', 'b'],
      /^rdd result: option '--key <key>' argument 'b' is invalid/,
    ],
  ])('%s exits 2 before reading S3', async (_, args, line) => {
    const run = await rdd(['result', ...args], { S3_BUCKET: 'media-bucket' });
    expect(run.stderr).toMatch(line);
    expect(run.code).toBe(ExitCode.Usage);
  });
});

describe('rdd worker configuration', () => {
  it('lists every problem of the review at once: channel clash, connections, bucket name, address', async () => {
    const run = await rdd(['worker'], {
      DETECTOR_URL: 'http://127.0.0.1:9',
      DETECTOR_REFERENCE_CHANNEL_PARAM: 'ch',
      DETECTOR_QUESTIONED_CHANNEL_PARAM: 'ch',
      DETECTOR_CONNECTIONS: 'x',
      S3_BUCKET: 'Bad_Bucket',
      TEMPORAL_ADDRESS: '::::',
    });
    expect(run.code).toBe(ExitCode.Usage);
    for (const problem of [
      'S3_BUCKET "Bad_Bucket" is not a valid S3 bucket name',
      'DETECTOR_CONNECTIONS must be a positive integer, got "x"',
      'DETECTOR_REFERENCE_CHANNEL_PARAM and DETECTOR_QUESTIONED_CHANNEL_PARAM must differ, both are "ch"',
      'TEMPORAL_ADDRESS must be host or host:port',
    ]) {
      expect(run.stderr).toContain(`  - ${problem}`);
    }
  });
});

describe('rdd help', () => {
  it.concurrent.each([
    ['help bogus', ['help', 'bogus'], "rdd: unknown command 'bogus'", 'rdd --help'],
    [
      'help stack bogus',
      ['help', 'stack', 'bogus'],
      "rdd stack: unknown command 'bogus'",
      'rdd stack --help',
    ],
  ])('%s is an unknown command, exit 2', async (_, args, line, hint) => {
    const run = await rdd(args);
    expect(run.stderr).toBe(`${line}\n(${hint} shows usage)\n`);
    expect(run.stdout).toBe('');
    expect(run.code).toBe(ExitCode.Usage);
  });

  it.concurrent.each([
    [['help', 'detect'], 'Usage: rdd detect'],
    [['help', 'stack', 'up'], 'Usage: rdd stack up'],
    [['help'], 'Usage: rdd [options] [command]'],
  ])('rdd %j prints that help, exit 0', async (args, usage) => {
    const run = await rdd(args);
    expect(run.stdout.split('\n')[0]).toContain(usage);
    expect(run.code).toBe(ExitCode.Ok);
  });

  it('rdd emulator --help ends with its exit codes', async () => {
    const run = await rdd(['emulator', '--help']);
    expect(run.stdout).toMatch(
      /Exit codes: 0 stopped by SIGINT\/SIGTERM, 1 it could not start[\s\S]*2 bad arguments\.\n$/,
    );
  });

  it.concurrent.each([[['worker', '--help']], [['--help']], [['detect', '--help']]])(
    'rdd %j into a closed pipe exits 0 without an EPIPE trace',
    async (args) => {
      const run = await rdd(args, {}, true);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(ExitCode.Ok);
    },
  );
});
