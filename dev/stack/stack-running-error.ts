/** Thrown by `startStack` when a stack is already running (or starting) in the same directory. */
export class StackRunningError extends Error {
  override name = 'StackRunningError';
  /** The stack directory, e.g. `<repo>/.stack`. */
  readonly dir: string;
  constructor(dir: string, pids: readonly number[]) {
    super(
      `a stack is already running in ${dir} (pids ${pids.join(', ')}): use it (its env is in ` +
        `${dir}/env), or stop it first with \`rdd stack down\`${dir.endsWith('/.stack') ? '' : ` --dir ${dir}`}`,
    );
    this.dir = dir;
  }
}
