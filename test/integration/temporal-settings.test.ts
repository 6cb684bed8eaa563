/**
 * Temporal settings from @temporalio/envconfig as `rdd setup` sees them (review 911, items 3, 7, 8):
 * a profile of the user's own wins over .stack/env, a missing profile is a configuration error
 * (exit 2) naming the file searched, and an API key against a plaintext server says that the key
 * switched TLS on. Real `rdd` processes against the shared dev server.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { testServices } from '../helpers/services.ts';
import { runRdd } from '../helpers/run-rdd.ts';

/** Runs `rdd setup` with only `env` (plus PATH and a HOME of its own unless given). */
function rddSetup(
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runRdd(['setup'], {
    PATH: process.env.PATH ?? '',
    HOME: mkdtempSync(path.join(tmpdir(), 'rdd-home-')),
    ...env,
  });
}

function configFile(text: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'rdd-temporal-toml-')), 'temporal.toml');
  writeFileSync(file, text);
  return file;
}

describe('rdd setup and the Temporal settings', () => {
  it('uses the profile of TEMPORAL_CONFIG_FILE / TEMPORAL_PROFILE', async () => {
    const { temporalAddress, namespace } = testServices();
    const file = configFile(`[profile.prod]\naddress = "${temporalAddress}"\nnamespace = "${namespace}"\n`);
    const { code, stdout } = await rddSetup({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' });
    expect(code).toBe(0);
    expect(stdout).toContain(`${namespace} is ready`);
  });

  it('exits 2 for a profile that is not in the config file, naming the file', async () => {
    const file = configFile('[profile.prod]\naddress = "127.0.0.1:9"\n');
    const { code, stderr } = await rddSetup({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'nosuch' });
    expect(code).toBe(2);
    expect(stderr).toContain(`TEMPORAL_PROFILE "nosuch" is not a profile in ${file}`);
  });

  it('names the default config file when TEMPORAL_CONFIG_FILE is not set', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'rdd-home-'));
    const { code, stderr } = await rddSetup({ HOME: home, TEMPORAL_PROFILE: 'nosuch' });
    expect(code).toBe(2);
    expect(stderr).toContain(
      `TEMPORAL_PROFILE "nosuch" is not a profile in ${path.join(home, '.config', 'temporalio', 'temporal.toml')}, which does not exist (the default`,
    );
  });

  it('exits 5 with a TLS hint for an API key against a plaintext server; TEMPORAL_TLS=false connects', async () => {
    const { temporalAddress, namespace } = testServices();
    const env = { TEMPORAL_ADDRESS: temporalAddress, TEMPORAL_NAMESPACE: namespace, TEMPORAL_API_KEY: 'abc' };
    const failed = await rddSetup(env);
    expect(failed.code).toBe(5);
    expect(failed.stderr).toContain(`cannot reach Temporal at ${temporalAddress}`);
    expect(failed.stderr).toContain('TEMPORAL_API_KEY turns TLS on');
    expect(failed.stderr).toContain('TEMPORAL_TLS=false');
    const plain = await rddSetup({ ...env, TEMPORAL_TLS: 'false' });
    expect(plain.stderr).not.toContain('turns TLS on');
    expect(plain.code).toBe(0);
  }, 60_000);
});
