/**
 * The `rdd` command line as a program: every command rejects an unknown flag (exit 2, naming it),
 * help is generated from the definitions, option values are parsed (negative numbers included),
 * and the dev commands say plainly when dev/ is not installed. No servers: parse errors happen
 * before any command touches Temporal or S3.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createProgram } from '../../src/starters/rdd.ts';
import { loadDev, NOT_AVAILABLE } from '../../src/starters/dev-commands.ts';
import { CliError, ExitCode } from '../../src/starters/exit-codes.ts';

const RDD = fileURLToPath(new URL('../../src/starters/rdd.ts', import.meta.url));

/** Runs `rdd` as a user does, with no stack env and no Temporal, and collects its output. */
function rdd(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // An empty stack dir's env file is never read: parse errors come first. TEMPORAL_ADDRESS points
    // nowhere, so a command that got past parsing would fail loudly rather than reach a server.
    const child = spawn(process.execPath, [RDD, ...args], {
      env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('every command rejects an unknown flag with exit 2, naming the flag', () => {
  it.concurrent.each([
    ['rdd', [], 'rdd'],
    ['worker', ['worker'], 'rdd worker'],
    ['detect', ['detect', 'ref.wav', 'q.wav'], 'rdd detect'],
    ['result', ['result', 'detect-1'], 'rdd result'],
    ['emulator', ['emulator'], 'rdd emulator'],
    ['stack', ['stack'], 'rdd stack'],
    ['stack up', ['stack', 'up'], 'rdd stack up'],
    ['stack down', ['stack', 'down'], 'rdd stack down'],
    ['demo', ['demo'], 'rdd demo'],
  ])('%s', async (_, args, path) => {
    const { code, stdout, stderr } = await rdd([...args, '--colour', 'blue']);
    expect(code).toBe(ExitCode.Usage);
    expect(stderr.split('\n')[0]).toBe(`${path}: unknown option '--colour'`);
    expect(stderr).toContain(`(${path} --help shows usage)`);
    expect(stdout).toBe('');
  });
});

describe('other parse errors exit 2 naming the problem', () => {
  it.concurrent.each([
    ['an unknown command', ['detekt'], "rdd: unknown command 'detekt'"],
    ['an excess argument', ['result', 'a', 'b'], 'rdd result: too many arguments'],
    ['an argument to worker', ['worker', 'now'], 'rdd worker: too many arguments'],
    ['a missing argument', ['detect', 'ref.wav'], "rdd detect: missing required argument 'questioned'"],
    [
      'a missing option value',
      ['detect', 'a', 'b', '--threshold'],
      "option '--threshold <llr>' argument missing",
    ],
    [
      'a bad number',
      ['detect', 'a', 'b', '--threshold', 'high'],
      "option '--threshold <llr>' argument 'high' is invalid",
    ],
    [
      'a negative channel',
      ['detect', 'a', 'b', '--reference-channel', '-1'],
      "'--reference-channel <n>' argument '-1'",
    ],
    ['a bad --config', ['detect', 'a', 'b', '--config', '{x'], 'Not valid JSON'],
    [
      '--timeout without --wait',
      ['detect', 'a', 'b', '--timeout', '5'],
      'rdd detect: --timeout needs --wait',
    ],
    [
      'a bad emulator value',
      ['emulator', '--capacity', '0'],
      "option '--capacity <n>' argument '0' is invalid",
    ],
    ['no stack action', ['stack'], 'Usage: rdd stack'],
    ['no command', [], 'Usage: rdd'],
  ])('%s', async (_, args, expected) => {
    const { code, stderr } = await rdd(args);
    expect(code).toBe(ExitCode.Usage);
    expect(stderr).toContain(expected);
  });
});

describe('help, generated from the definitions', () => {
  it('rdd --help lists every command and the exit codes, exit 0', async () => {
    const { code, stdout } = await rdd(['--help']);
    expect(code).toBe(0);
    for (const name of ['worker', 'detect', 'result', 'emulator', 'stack', 'demo']) {
      expect(stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
    }
    expect(stdout).toContain('5  Temporal could not be reached');
  });

  it('rdd detect --help lists its options, exit 0', async () => {
    const { code, stdout } = await rdd(['detect', '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: rdd detect [options] <reference> <questioned>');
    for (const flag of [
      '--reference-channel <n>',
      '--questioned-channel <n>',
      '--config <json>',
      '--param <name=value>',
      '--threshold <llr>',
      '--id <id>',
      '--wait',
      '--timeout <seconds>',
      '--json',
    ]) {
      expect(stdout).toContain(flag);
    }
  });

  it('dev commands have help even though their code is loaded lazily', async () => {
    const { code, stdout } = await rdd(['stack', 'up', '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('--no-worker');
  });
});

/** Parses `args` with the real definitions, replacing the action of the command at `path`. */
async function parsedOptions(path: string[], args: string[]): Promise<{ args: unknown[]; options: unknown }> {
  const program = createProgram();
  let command = program as ReturnType<typeof createProgram>['commands'][number];
  for (const name of path) command = command.commands.find((c) => c.name() === name)!;
  let seen: { args: unknown[]; options: unknown } | undefined;
  command.action((...received: unknown[]) => {
    seen = { args: received.slice(0, -2), options: received.at(-2) };
  });
  await program.parseAsync([...path, ...args], { from: 'user' });
  return seen!;
}

describe('option values', () => {
  it('a negative --threshold parses as the next argument (no = needed)', async () => {
    const { args, options } = await parsedOptions(['detect'], ['r.wav', 'q.wav', '--threshold', '-1.5']);
    expect(args).toEqual(['r.wav', 'q.wav']);
    expect(options).toEqual({ threshold: -1.5, cache: true });
  });

  it('detect --no-cache turns the score cache off (on by default)', async () => {
    const { options } = await parsedOptions(['detect'], ['r.wav', 'q.wav', '--no-cache']);
    expect(options).toEqual({ cache: false });
  });

  it('detect options come out typed: numbers, a JSON object, repeated --param merged', async () => {
    const { options } = await parsedOptions(
      ['detect'],
      [
        'r.wav',
        'q.wav',
        '--questioned-channel',
        '1',
        '--config',
        '{"a":1}',
        '--param',
        'x=1',
        '--param',
        'y=a=b',
        '--wait',
        '--timeout',
        '2.5',
      ],
    );
    expect(options).toEqual({
      questionedChannel: 1,
      config: { a: 1 },
      param: { x: '1', y: 'a=b' },
      wait: true,
      timeout: 2.5,
      cache: true,
    });
  });

  it('stack up: --no-worker turns the worker off, the rest defaults on', async () => {
    const { options } = await parsedOptions(['stack', 'up'], ['--no-worker', '-d']);
    expect(options).toEqual({ worker: false, api: true, emulator: true, detach: true });
  });
});

describe('dev commands in a production install', () => {
  it('a missing dev/ module or package is "not available", exit 1', async () => {
    const missing: string = '../../dev/no-such-module.ts';
    const err = await loadDev(() => import(missing)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(ExitCode.Failed);
    expect((err as CliError).message).toBe(NOT_AVAILABLE);
  });

  it('any other import failure is not disguised', async () => {
    const broken = new SyntaxError('Unexpected token');
    await expect(loadDev(() => Promise.reject(broken))).rejects.toBe(broken);
  });
});
