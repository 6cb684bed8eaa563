/**
 * The one place errors become exit codes (`reportError`): what each kind prints and returns.
 */
import { CommanderError } from '@commander-js/extra-typings';
import { defaultPayloadConverter } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { TemporalUnreachableError } from '../../src/client/temporal-unreachable-error.ts';
import { ConfigError } from '../../src/config.ts';
import { CliError, ExitCode, reportError, UsageError } from '../../src/starters/exit-codes.ts';

function report(err: unknown, env: Record<string, string> = {}): { code: number; stderr: string } {
  let stderr = '';
  const code = reportError(err, 'rdd detect', (text) => (stderr += text), env);
  return { code, stderr };
}

describe('reportError', () => {
  it('help and version are success; every other commander error is a usage error it already printed', () => {
    expect(report(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'))).toEqual({
      code: 0,
      stderr: '',
    });
    expect(report(new CommanderError(1, 'commander.unknownOption', "unknown option '--x'"))).toEqual({
      code: ExitCode.Usage,
      stderr: '',
    });
    // `rdd` with no command shows help on stderr with commander's exit code 1: still a usage error.
    expect(report(new CommanderError(1, 'commander.help', '(outputHelp)')).code).toBe(ExitCode.Usage);
  });

  it('a UsageError: exit 2, its message and the pointer to help', () => {
    expect(report(new UsageError('--timeout needs --wait'))).toEqual({
      code: 2,
      stderr: 'rdd detect: --timeout needs --wait\n(rdd detect --help shows usage)\n',
    });
  });

  it('a CliError: its own code and message; an empty message prints nothing', () => {
    expect(report(new CliError(ExitCode.StillRunning, 'detect-1 is still running'))).toEqual({
      code: 3,
      stderr: 'rdd detect: detect-1 is still running\n',
    });
    expect(report(new CliError(ExitCode.Failed, ''))).toEqual({ code: 1, stderr: '' });
  });

  it('a ConfigError: exit 2 with every problem', () => {
    const { code, stderr } = report(new ConfigError(['S3_BUCKET is required', 'DETECTOR_URL is required']));
    expect(code).toBe(2);
    expect(stderr).toContain('S3_BUCKET is required');
    expect(stderr).toContain('DETECTOR_URL is required');
  });

  it('Temporal unreachable: exit 5, one line', () => {
    const err = new TemporalUnreachableError('127.0.0.1:7233', new Error('connect ECONNREFUSED'));
    expect(report(err)).toEqual({
      code: 5,
      stderr: 'rdd detect: cannot reach Temporal at 127.0.0.1:7233 (connect ECONNREFUSED)\n',
    });
  });

  it('anything else: exit 1, one line naming the error; DEBUG adds the stack', () => {
    const err = new TypeError('boom\nsecond line');
    expect(report(err)).toEqual({ code: 1, stderr: 'rdd detect: TypeError: boom\n' });
    expect(report(new Error('plain'))).toEqual({ code: 1, stderr: 'rdd detect: plain\n' });
    expect(report(err, { DEBUG: '1' }).stderr).toContain('    at ');
  });

  it('a payload this process cannot decode because it is encrypted: exit 1 with a hint to set the keys', () => {
    // The SDK's own error, as a process without RDD_ENCRYPTION_KEYS meets it reading a result.
    let decodeError: unknown;
    try {
      defaultPayloadConverter.fromPayload({
        metadata: { encoding: new TextEncoder().encode('binary/encrypted') },
        data: new Uint8Array([1, 2, 3]),
      });
    } catch (err) {
      decodeError = err;
    }
    const { code, stderr } = report(new Error('cannot read the result', { cause: decodeError }));
    expect(code).toBe(1);
    expect(stderr).toContain('the payload is encrypted: set RDD_ENCRYPTION_KEYS');
    expect(report(new Error('plain')).stderr).not.toContain('encrypted');
  });
});
