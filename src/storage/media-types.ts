/**
 * File-name extensions for the audio types `sniffContentType` / the media probe decide from the
 * bytes, so a name always agrees with its content (an upload key, the file name sent to the
 * platform). No I/O.
 */

/** The extension (with its dot) of each audio MIME type we detect. */
export const EXTENSION_BY_CONTENT_TYPE: Readonly<Record<string, string>> = {
  'audio/wav': '.wav',
  'audio/mpeg': '.mp3',
  'audio/flac': '.flac',
  'audio/ogg': '.ogg',
  'audio/mp4': '.m4a',
  'audio/aiff': '.aiff',
};

/** Extensions that only say "audio of some kind": replaced, not kept, when the type differs. */
const MEDIA_EXTENSIONS = new Set([
  ...Object.values(EXTENSION_BY_CONTENT_TYPE),
  '.wave',
  '.opus',
  '.oga',
  '.aac',
  '.aif',
  '.aifc',
  '.mp4',
  '.wma',
  '.bin',
]);

/**
 * The extension for a MIME type, or `''` when it is not one we detect (`application/octet-stream`).
 * Pure.
 * @example extensionForContentType('audio/mpeg') // '.mp3'
 */
export function extensionForContentType(contentType: string | undefined): string {
  return (contentType && EXTENSION_BY_CONTENT_TYPE[contentType.toLowerCase()]) || '';
}

/**
 * `name` with the extension of `contentType`: a media extension that disagrees is replaced, any
 * other suffix kept (`call.2024` → `call.2024.wav`); unchanged for an unknown type. Pure.
 * @example fileNameFor('take.flac', 'audio/wav') // 'take.wav'
 * @example fileNameFor('media/9f2c', 'audio/mpeg') // 'media/9f2c.mp3'
 */
export function fileNameFor(name: string, contentType: string | undefined): string {
  const extension = extensionForContentType(contentType);
  if (extension === '') return name;
  const dot = name.lastIndexOf('.');
  const current = dot > name.lastIndexOf('/') ? name.slice(dot).toLowerCase() : '';
  if (current === extension) return name;
  return MEDIA_EXTENSIONS.has(current) ? `${name.slice(0, dot)}${extension}` : `${name}${extension}`;
}
