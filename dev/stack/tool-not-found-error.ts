/** Thrown when a program the stack runs (temporal, versitygw) is neither in `.tools/bin` nor on PATH. */
export class ToolNotFoundError extends Error {
  override name = 'ToolNotFoundError';
  /** The program that was looked for, e.g. `temporal`. */
  readonly tool: string;
  constructor(tool: string, searched: readonly string[]) {
    super(
      `${tool} not found (looked in ${searched.join(', ')}): run \`npm run provision\` to install it, ` +
        `or put it on PATH`,
    );
    this.tool = tool;
  }
}
