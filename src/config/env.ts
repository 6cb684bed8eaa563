/**
 * The environment type, alone in a file with no imports so that the library (src/client) can name
 * it without loading the config schemas (which reach the detector client in src/activities).
 */

/**
 * The environment a process reads its settings from: `process.env`, or an explicit object in tests
 * (possibly with `.stack/env` merged in). The one Env type of the project.
 * @example const env: Env = { ...process.env, TASK_QUEUE: 'tq' }
 */
export type Env = Record<string, string | undefined>;
