/**
 * The HTTP API served by `rdd serve`: `createApiServer` and what plugins need to add routes.
 * @example
 * const app = await createApiServer({ client, s3, config: loadApiConfig(process.env) });
 * await app.listen({ host: '127.0.0.1', port: 8080 });
 */
export { createApiServer, type ApiDeps, type ApiServerOptions } from './server.ts';
export { API_PLUGINS, type ApiPlugin, type ApiPluginOptions } from './plugins.ts';
export { ProblemError } from './problem-error.ts';
export {
  PROBLEM_CONTENT_TYPE,
  ProblemSchema,
  ProblemType,
  jsonResponse,
  problemDocument,
  problemResponses,
  type Problem,
  type ProblemFieldError,
} from './problems.ts';
export { PUBLIC_PATHS, tokenMatches } from './auth.ts';
