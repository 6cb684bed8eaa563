/**
 * RDD_ENCRYPTION_KEYS / RDD_ENCRYPTION_KEYS_FILE as a config schema, so a process's loader reports
 * bad keys with its other problems at start-up (`rdd codec-server` reads it). The parsing itself
 * lives in src/client/encryption-keys.ts, which the client library uses without zod.
 */
import { z } from 'zod';
import { type EncryptionConfig, loadEncryptionConfig } from '../client/encryption-keys.ts';
import { ConfigError } from './config-error.ts';

export type { EncryptionConfig, EncryptionKey } from '../client/encryption-keys.ts';

/**
 * The encryption variables of an env object → `EncryptionConfig | undefined`; problems name the
 * variable and the entry, never a key. Combine with `readVariables`.
 * @example readVariables(env, [encryptionVariables])[0]?.keys[0].id
 */
export const encryptionVariables = z
  .object({ RDD_ENCRYPTION_KEYS: z.string().optional(), RDD_ENCRYPTION_KEYS_FILE: z.string().optional() })
  .transform((vars, ctx): EncryptionConfig | undefined => {
    try {
      return loadEncryptionConfig(vars);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      for (const problem of err.problems) ctx.addIssue({ code: 'custom', message: problem });
      return z.NEVER;
    }
  });
