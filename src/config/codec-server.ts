/**
 * What `rdd codec-server` reads: the encryption keys (required: a codec server without keys has
 * nothing to do), its token, where it listens and which Temporal UI origins may call it.
 */
import { z } from 'zod';
import type { EncryptionConfig } from '../client/encryption-keys.ts';
import { encryptionVariables } from './encryption.ts';
import { type Env, optional, readVariables, text, tokenFile } from './variables.ts';

/** Defaults of the codec server's settings. */
export const CODEC_SERVER_DEFAULTS = {
  host: '127.0.0.1',
  port: 8888,
  /** The Temporal dev server's UI (`temporal server start-dev`), both spellings of loopback. */
  uiOrigins: ['http://127.0.0.1:8233', 'http://localhost:8233'],
  /** 4 MiB: the UI decodes a page of history at a time; Temporal's own payload limit is 2 MiB. */
  bodyLimitBytes: 4 * 1024 * 1024,
} as const;

/** Everything `rdd codec-server` needs. */
export interface CodecServerConfig {
  encryption: EncryptionConfig;
  /** RDD_CODEC_SERVER_TOKEN or the first line of RDD_CODEC_SERVER_TOKEN_FILE; undefined: no auth. */
  token?: string;
  /** RDD_CODEC_SERVER_UI_ORIGINS (comma-separated), default the dev server's UI. */
  uiOrigins: string[];
}

/** An origin: scheme, host and optional port, nothing else (`http://127.0.0.1:8233`). */
const origins = z.string().transform((value, ctx) => {
  const list = value
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  for (const origin of list) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin.replace(/\/$/, '')) {
      ctx.addIssue({
        code: 'custom',
        message: `must list origins like http://127.0.0.1:8233, got "${origin}"`,
      });
    }
  }
  return list.map((origin) => origin.replace(/\/$/, ''));
});

/** The codec server's own variables (tokens read like RDD_API_TOKEN / RDD_API_TOKEN_FILE). */
const codecServerVariables = z
  .object({
    RDD_CODEC_SERVER_TOKEN: optional(text),
    RDD_CODEC_SERVER_TOKEN_FILE: optional(tokenFile),
    RDD_CODEC_SERVER_UI_ORIGINS: optional(origins),
  })
  .refine(
    (vars) => vars.RDD_CODEC_SERVER_TOKEN === undefined || vars.RDD_CODEC_SERVER_TOKEN_FILE === undefined,
    {
      when: () => true,
      path: ['RDD_CODEC_SERVER_TOKEN_FILE'],
      error: 'and RDD_CODEC_SERVER_TOKEN are both set; set one',
    },
  );

/**
 * Reads `rdd codec-server`'s settings from `env`, every problem at once. Keys are required
 * (RDD_ENCRYPTION_KEYS or RDD_ENCRYPTION_KEYS_FILE); the token file's first line is the token.
 * Neither a key nor a token is ever part of a problem.
 * @throws ConfigError listing each missing or invalid variable by name.
 * @example loadCodecServerConfig({ RDD_ENCRYPTION_KEYS: `k1:${b64}` }).uiOrigins // ['http://127.0.0.1:8233', …]
 */
export function loadCodecServerConfig(env: Env): CodecServerConfig {
  const required = encryptionVariables.refine((keys) => keys !== undefined, {
    path: ['RDD_ENCRYPTION_KEYS'],
    error: '(or RDD_ENCRYPTION_KEYS_FILE) is required: the codec server decrypts with these keys',
  });
  const [encryption, vars] = readVariables(env, [required, codecServerVariables]);
  const token = vars.RDD_CODEC_SERVER_TOKEN ?? vars.RDD_CODEC_SERVER_TOKEN_FILE;
  return {
    encryption: encryption,
    ...(token !== undefined && { token }),
    uiOrigins: vars.RDD_CODEC_SERVER_UI_ORIGINS ?? [...CODEC_SERVER_DEFAULTS.uiOrigins],
  };
}
