import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/**
 * The practice page: `GET /` and everything it loads, from the service itself (`/assets/…`: the
 * page's HTML and CSS from web/public, its compiled scripts from dist/web, uPlot from its npm
 * package). Nothing comes from another origin, and the page's Content-Security-Policy says so.
 */

const here = path.dirname(fileURLToPath(import.meta.url)); // dist/src/routes
const publicDir = path.resolve(here, '../../../web/public');
const scriptsDir = path.resolve(here, '../../web');
const uplotDir = path.dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js'));

const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "img-src 'self' data: blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export async function pageRoutes(app: FastifyInstance): Promise<void> {
  await app.register(fastifyStatic, { root: [publicDir, scriptsDir], prefix: '/assets/', index: false });
  await app.register(fastifyStatic, { root: uplotDir, prefix: '/assets/vendor/', decorateReply: false, index: false });

  app.get('/', { schema: { hide: true } }, async (_request, reply) => {
    return reply.header('content-security-policy', CONTENT_SECURITY_POLICY).sendFile('index.html', publicDir);
  });
}
