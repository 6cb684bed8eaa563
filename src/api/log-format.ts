/**
 * The log line shape of `rdd serve` and `rdd codec-server` (fastify's pino), made the same as the
 * worker's (src/telemetry/json-logger.ts): `{"level":"info","time":"<ISO 8601>","message":…}`,
 * so one jq filter reads every service of a compose deployment.
 */
import type { FastifyServerOptions } from 'fastify';

/** pino's options of the fastify servers' logger, without `serializers` (each server adds its own). */
type PinoOptions = Exclude<FastifyServerOptions['logger'], boolean | undefined>;

/**
 * pino options for the worker's line shape: the level as its label (`info`, not 30), `time` as ISO
 * 8601 text (pino's epoch ms otherwise), the text under `message` (pino's `msg` otherwise), and no
 * `pid`/`hostname` (the worker's lines have none). Pure; a new object on every call.
 * @example Fastify({ logger: { ...jsonLogOptions('info'), serializers: { req } } })
 */
export function jsonLogOptions(level = 'info'): PinoOptions {
  return {
    level,
    messageKey: 'message',
    base: undefined,
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    formatters: { level: (label: string) => ({ level: label }) },
  };
}
