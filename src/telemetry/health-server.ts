/**
 * The worker's health endpoint: a small node:http server with one route, `GET /healthz`, for a
 * container's liveness/readiness probe. 200 while the worker runs and both its pollers poll; 503
 * before it polls, once it stops polling (shutdown requested, draining, stopped, failed).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WorkerStatus } from '@temporalio/worker';
import { type BindAddress, urlOfBind } from './bind-address.ts';

/** The path of the health route. */
export const HEALTH_PATH = '/healthz';

/** The part of a Worker the endpoint reads. */
export interface HealthSource {
  getStatus(): WorkerStatus;
}

/** The JSON body of every answer of `GET /healthz`. */
export interface HealthReport {
  status: 'ok' | 'unhealthy';
  /** Worker.getState(): RUNNING, or INITIALIZED, STOPPING, DRAINING, DRAINED, STOPPED, FAILED. */
  state: string;
  workflowPoller: string;
  activityPoller: string;
  inFlightActivities: number;
  cachedWorkflows: number;
}

/**
 * The health of a worker from its status: `ok` only when its run state is RUNNING and both the
 * workflow and the activity poller are POLLING. Pure.
 * @example healthOf(worker.getStatus()).status // 'ok'
 */
export function healthOf(status: WorkerStatus): HealthReport {
  const polling =
    status.runState === 'RUNNING' &&
    status.workflowPollerState === 'POLLING' &&
    status.activityPollerState === 'POLLING';
  return {
    status: polling ? 'ok' : 'unhealthy',
    state: status.runState,
    workflowPoller: status.workflowPollerState,
    activityPoller: status.activityPollerState,
    inFlightActivities: status.numInFlightActivities,
    cachedWorkflows: status.numCachedWorkflows,
  };
}

/** A running health endpoint. */
export interface HealthServer {
  /** `http://host:port/healthz`, with the port actually bound (a bind port of 0 picks one). */
  url: string;
  /** Stops listening and ends open connections. Idempotent. */
  close(): Promise<void>;
}

/**
 * Serves `GET`/`HEAD /healthz` (200 or 503, JSON HealthReport) for `source` on `bind`; any other
 * path is 404, another method 405. Reads the status on every request: nothing is cached.
 * @throws Error from listen (EADDRINUSE, EACCES) naming the address.
 * @example const health = await startHealthServer(worker, { host: '0.0.0.0', port: 9465 }); … await health.close();
 */
export async function startHealthServer(source: HealthSource, bind: BindAddress): Promise<HealthServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== HEALTH_PATH) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response
        .writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' })
        .end('method not allowed\n');
      return;
    }
    let report: HealthReport;
    try {
      report = healthOf(source.getStatus());
    } catch {
      report = {
        status: 'unhealthy',
        state: 'UNKNOWN',
        workflowPoller: 'UNKNOWN',
        activityPoller: 'UNKNOWN',
        inFlightActivities: 0,
        cachedWorkflows: 0,
      };
    }
    const body = `${JSON.stringify(report)}\n`;
    response
      .writeHead(report.status === 'ok' ? 200 : 503, {
        'content-type': 'application/json',
        'cache-control': 'no-store',
        'content-length': Buffer.byteLength(body),
      })
      .end(request.method === 'HEAD' ? undefined : body);
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(
        new Error(`health endpoint cannot listen on ${bind.host}:${bind.port}: ${err.message}`, {
          cause: err,
        }),
      ),
    );
    server.listen(bind.port, bind.host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: urlOfBind({ host: bind.host, port }, HEALTH_PATH),
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
