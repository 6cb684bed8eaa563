#!/usr/bin/env node
/**
 * `rdd`: one entry point, one module per command. Each command module exports
 * `run(argv: string[]): Promise<number>` and returns the process exit code.
 */
const COMMANDS: Record<
  string,
  { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number> }> }
> = {
  worker: {
    summary: 'run a worker (graceful shutdown on SIGINT/SIGTERM)',
    load: () => import('./worker-command.ts'),
  },
  detect: {
    summary: 'detect <reference> <questioned> [--wait] [--json] …',
    load: () => import('./detect.ts'),
  },
  result: { summary: 'result <workflowId>: print a recorded result', load: () => import('./result.ts') },
  emulator: {
    summary: 'emulator [--port N] …: the local Speech Platform emulator',
    load: () => import('../../dev/emulator/command.ts'),
  },
  stack: {
    summary: 'stack up [--detach] | stack down: the embedded local stack',
    load: () => import('../../dev/stack/command.ts'),
  },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  rdd ${name.padEnd(9)} ${c.summary}`);
  return `usage: rdd <command> [options]\n\n${lines.join('\n')}\n\nrdd <command> --help for a command's options.`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`rdd: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  return (await command.load()).run(rest);
}

process.exitCode = await main(process.argv.slice(2));
