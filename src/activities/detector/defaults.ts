/**
 * The detector settings' defaults, in one place: the HTTP client falls back to them and the
 * worker's configuration (src/config) fills them in for unset DETECTOR_* variables.
 */

/**
 * What the client and the worker use when nothing else is said.
 *
 * - `channelParams`: the platform does not document the channel parameter names; these are ours.
 * - `locationResolution`: RFC 3986 reference resolution (see LocationResolution in client.ts).
 * - `maxUploadBytes` (bytes) / `maxAudioSeconds` (s): the appliance's single-upload limit (500 MB)
 *   and longest audio (2 hours); larger media fail before upload.
 * - `connections`: sockets per origin when the client builds its own Agent.
 * - `headersTimeoutMs` / `bodyTimeoutMs` (ms): both must stay below the activities' start-to-close
 *   timeouts. `headersTimeout` also bounds a stalled upload: undici re-arms it only while body
 *   bytes flow.
 *
 * @example createDetectorClient({ baseUrl, headersTimeoutMs: DETECTOR_DEFAULTS.headersTimeoutMs * 2 })
 */
export const DETECTOR_DEFAULTS = {
  channelParams: { reference: 'reference_channel', questioned: 'questioned_channel' },
  locationResolution: 'rfc3986',
  maxUploadBytes: 500 * 1000 * 1000,
  maxAudioSeconds: 2 * 60 * 60,
  connections: 16,
  headersTimeoutMs: 60_000,
  bodyTimeoutMs: 60_000,
} as const;
