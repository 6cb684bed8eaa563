/**
 * The failure converter used when payloads are encrypted: a failure's message and stack trace
 * travel as a payload (`encodedAttributes`), so the payload codec encrypts them too; the history
 * then shows only "Encoded failure". Loaded by path (`failureConverterPath`) by the worker and
 * bundled into the workflow code, so it must stay free of Node built-ins.
 */
import { DefaultFailureConverter } from '@temporalio/common';

/** `DefaultFailureConverter({ encodeCommonAttributes: true })`; decoding reads both forms. */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
