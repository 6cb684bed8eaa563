/**
 * The API's optional route groups, registered by `createApiServer` after the built-in routes and
 * under the same auth hook, error handler (problem documents) and OpenAPI document. Adding one is
 * its module plus one line in `API_PLUGINS`.
 */
import type { FastifyPluginAsync } from 'fastify';
import { s3EventsApiPlugin } from './s3-events.ts';
import type { ApiDeps } from './server.ts';

/** Options every API plugin is registered with. */
export interface ApiPluginOptions {
  deps: ApiDeps;
}

/**
 * A group of routes: a fastify plugin that receives the shared deps. Use
 * `app.withTypeProvider<ZodTypeProvider>()` and zod schemas so it is validated and documented like
 * the rest; throw `ProblemError` for a problem document.
 * @example export const s3EventRoutes: ApiPlugin = async (app, { deps }) => { app.post('/v1/s3-events', …) }
 */
export type ApiPlugin = FastifyPluginAsync<ApiPluginOptions>;

/** The plugins `createApiServer` registers by default. */
export const API_PLUGINS: readonly ApiPlugin[] = [s3EventsApiPlugin];
