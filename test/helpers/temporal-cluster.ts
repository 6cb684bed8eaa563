/**
 * A real Temporal cluster on this machine, for test/cluster: the Temporal server built from source
 * (`temporal-server`, scripts/cluster-tools.sh) with its four services (frontend, history, matching,
 * worker) on PostgreSQL from the OS (a throwaway instance: initdb in a temp dir), the schemas set up
 * by the server's own SQL tool, SQL visibility. Everything on 127.0.0.1, on free ports. Unlike the
 * dev server, a fresh cluster has no namespace but `temporal-system` and no custom search
 * attributes: `rdd setup` has to make them.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { Connection } from '@temporalio/client';
import getPort, { portNumbers } from 'get-port';
import { LOOPBACK, pickPort } from '../../dev/stack/ports.ts';
import { spawnService, terminateGroup, waitHealthy, type ServiceProcess } from '../../dev/stack/process.ts';
import { toolsDir } from '../../dev/stack/tools.ts';

/** What scripts/cluster-tools.sh found and installed (its `.tools/cluster.env`). */
interface ClusterTools {
  TEMPORAL_SERVER_VERSION: string;
  TEMPORAL_SERVER: string;
  TEMPORAL_SQL_TOOL: string;
  TEMPORAL_SCHEMA_DIR: string;
  PG_BIN: string;
}

/** The frontend's TLS: PEM files. */
export interface ClusterTls {
  certFile: string;
  keyFile: string;
  /** The CA that signed the server's and the clients' certificates. */
  caFile: string;
  /** mTLS: refuse clients without a certificate signed by `caFile`. */
  requireClientAuth: boolean;
  /** The name in the server certificate, which internal clients ask for. */
  serverName: string;
}

/** Options of `startTemporalCluster`. */
export interface ClusterOptions {
  /** Serve the frontend over TLS (mTLS with `requireClientAuth`); default plain gRPC. */
  tls?: ClusterTls;
}

/** A running cluster. */
export interface TemporalCluster {
  /** `127.0.0.1:<port>` of the frontend's gRPC. */
  address: string;
  /** The server's version, e.g. `1.32.2`. */
  version: string;
  /** Where its config and logs are (`temporal.log`, `postgres.log`). */
  dir: string;
  /** Stops the server, then PostgreSQL, and removes every file; idempotent. */
  close(): Promise<void>;
}

/**
 * The tools of scripts/cluster-tools.sh.
 * @throws Error naming the script when it has not run.
 */
function clusterTools(): ClusterTools {
  const file = path.join(toolsDir(), 'cluster.env');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`${file} is missing: run \`bash scripts/cluster-tools.sh\` (npm run test:cluster does)`);
  }
  return parseEnv(text) as unknown as ClusterTools;
}

/** PostgreSQL refuses to run as root: as root, its programs run as this user (Debian's `postgres`). */
function pgUser(): { name: string; uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
      return { name, uid, gid };
    } catch {
      // no such user
    }
  }
  throw new Error('running as root, and neither a postgres nor a nobody user exists to run PostgreSQL');
}

/**
 * Starts PostgreSQL, sets up the `temporal` and `temporal_visibility` schemas, writes a server
 * config (development-postgres12 style) and starts the server; resolves once the frontend answers
 * and `temporal-system` is served.
 * @throws ServiceStartError (with the end of the log) when the server does not come up in 120 s;
 *   Error when scripts/cluster-tools.sh has not run or a setup step fails.
 * @example const cluster = await startTemporalCluster(); … await cluster.close();
 */
export async function startTemporalCluster(options: ClusterOptions = {}): Promise<TemporalCluster> {
  const tools = clusterTools();
  const { tls } = options;
  const dir = mkdtempSync(path.join(tmpdir(), 'rdd-cluster-'));
  // PostgreSQL's own directory, outside `dir` (mode 0700): the postgres user must reach it.
  const pgDir = mkdtempSync(path.join(tmpdir(), 'rdd-cluster-pg-'));
  const taken = new Set<number>();
  const pgPort = await pickPort(0, taken);
  const user = pgUser();
  const pgData = path.join(pgDir, 'data');
  const pg = (program: string, args: string[]) => {
    const command = path.join(tools.PG_BIN, program);
    const [file, argv] = user ? ['runuser', ['-u', user.name, '--', command, ...args]] : [command, args];
    execFileSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], cwd: pgDir });
  };
  let server: ServiceProcess | undefined;
  let pgStarted = false;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    if (server) {
      await terminateGroup(server.pid, 10_000);
      await server.exited;
    }
    if (pgStarted) pg('pg_ctl', ['-D', pgData, '-m', 'fast', '-w', 'stop']);
    rmSync(dir, { recursive: true, force: true });
    rmSync(pgDir, { recursive: true, force: true });
  };
  try {
    if (user) chownSync(pgDir, user.uid, user.gid);
    pg('initdb', ['-D', pgData, '-U', 'temporal', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    pg('pg_ctl', [
      '-D',
      pgData,
      '-l',
      path.join(pgDir, 'postgres.log'),
      '-o',
      `-p ${pgPort} -k ${pgDir} -c listen_addresses=${LOOPBACK} -c fsync=off -c max_connections=200`,
      '-w',
      'start',
    ]);
    pgStarted = true;

    const sqlTool = (database: string, ...args: string[]) =>
      execFileSync(
        tools.TEMPORAL_SQL_TOOL,
        [
          '--plugin',
          'postgres12',
          '--ep',
          LOOPBACK,
          '-p',
          String(pgPort),
          '-u',
          'temporal',
          '--db',
          database,
          ...args,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
    for (const [database, schema] of [
      ['temporal', 'temporal'],
      ['temporal_visibility', 'visibility'],
    ] as const) {
      sqlTool(database, 'create-database');
      sqlTool(database, 'setup-schema', '-v', '0.0');
      sqlTool(database, 'update-schema', '-d', path.join(tools.TEMPORAL_SCHEMA_DIR, schema, 'versioned'));
    }

    // Below 32768: the cluster_membership table keeps membership ports as smallint.
    const lowPort = async () => {
      const start = 20_000 + Math.floor(Math.random() * 10_000);
      const port = await getPort({ host: LOOPBACK, port: portNumbers(start, 32_767), exclude: taken });
      taken.add(port);
      return port;
    };
    const ports = {
      frontend: await lowPort(),
      frontendHttp: await lowPort(),
      frontendMembership: await lowPort(),
      history: await lowPort(),
      historyMembership: await lowPort(),
      matching: await lowPort(),
      matchingMembership: await lowPort(),
      worker: await lowPort(),
      workerMembership: await lowPort(),
    };
    const address = `${LOOPBACK}:${ports.frontend}`;
    const configFile = path.join(dir, 'temporal.yaml');
    writeFileSync(
      configFile,
      serverConfig({ pgPort, ports, address, dynamicConfig: path.join(dir, 'dynamic.yaml'), tls }),
    );
    writeFileSync(path.join(dir, 'dynamic.yaml'), '{}\n');
    mkdirSync(path.join(dir, 'logs'));
    server = await spawnService({
      name: 'temporal',
      command: tools.TEMPORAL_SERVER,
      args: ['--config-file', configFile, '--allow-no-auth', 'start'],
      logDir: path.join(dir, 'logs'),
      detach: false,
    });
    await waitHealthy(
      server,
      async () => {
        const connection = await Connection.connect({
          address,
          connectTimeout: '2 seconds',
          ...(tls && {
            tls: {
              serverRootCACertificate: readFileSync(tls.caFile),
              serverNameOverride: tls.serverName,
              clientCertPair: { crt: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) },
            },
          }),
        });
        try {
          await connection.workflowService.describeNamespace({ namespace: 'temporal-system' });
          return true;
        } finally {
          await connection.close();
        }
      },
      { timeoutMs: 120_000, what: `namespace temporal-system served at ${address}` },
    );
    return { address, version: tools.TEMPORAL_SERVER_VERSION, dir, close };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}

/** The server's YAML config: four services on loopback, SQL persistence and visibility. */
function serverConfig(o: {
  pgPort: number;
  ports: Record<string, number>;
  address: string;
  dynamicConfig: string;
  tls: ClusterTls | undefined;
}): string {
  // The frontend's server side, and the client side of what calls the frontend from inside (the
  // system worker, and the frontend's own operator API, e.g. AddSearchAttributes): with mTLS these
  // need a client certificate too, the systemWorker one (here the server's, which allows clientAuth).
  const tls = o.tls
    ? `
  tls:
    frontend:
      server:
        certFile: ${o.tls.certFile}
        keyFile: ${o.tls.keyFile}
        requireClientAuth: ${o.tls.requireClientAuth}
        clientCaFiles: [${o.tls.caFile}]
      client:
        serverName: ${o.tls.serverName}
        rootCaFiles: [${o.tls.caFile}]
    systemWorker:
      certFile: ${o.tls.certFile}
      keyFile: ${o.tls.keyFile}
      client:
        serverName: ${o.tls.serverName}
        rootCaFiles: [${o.tls.caFile}]`
    : '';
  const sql = (database: string, maxConns: number) => `      sql:
        pluginName: postgres12
        databaseName: ${database}
        connectAddr: "${LOOPBACK}:${o.pgPort}"
        connectProtocol: tcp
        user: temporal
        password: ""
        maxConns: ${maxConns}
        maxIdleConns: ${maxConns}
        maxConnLifetime: 1h`;
  const service = (name: string) => `  ${name}:
    rpc:
      grpcPort: ${o.ports[name]}
      membershipPort: ${o.ports[`${name}Membership`]}
      bindOnIP: ${LOOPBACK}${name === 'frontend' ? `\n      httpPort: ${o.ports.frontendHttp}` : ''}`;
  return `log:
  stdout: true
  level: warn
persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: 4
  datastores:
    postgres-default:
${sql('temporal', 20)}
    postgres-visibility:
${sql('temporal_visibility', 10)}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: ${LOOPBACK}${tls}
services:
${['frontend', 'history', 'matching', 'worker'].map(service).join('\n')}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: ${o.address}
dcRedirectionPolicy:
  policy: noop
dynamicConfigClient:
  filepath: ${o.dynamicConfig}
  pollInterval: 10s
`;
}
