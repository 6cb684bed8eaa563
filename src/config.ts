/**
 * Settings from the environment, per process, read once at start-up and reported all at once:
 * `loadWorkerConfig` for `rdd worker`, `loadClientConfig` for whatever starts and reads
 * detections. The Temporal connection is not here: `@temporalio/envconfig` owns it
 * (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS, profiles). Never imported by
 * workflows.
 */
export { ConfigError } from './config/config-error.ts';
export type { Env } from './config/variables.ts';
export { loadClientConfig } from './config/client.ts';
export type { ClientConfig, StorageConfig, StorageNeed } from './config/client.ts';
export { loadWorkerConfig } from './config/worker.ts';
export type { DetectorConfig, WorkerConfig, WorkerSettings } from './config/worker.ts';
