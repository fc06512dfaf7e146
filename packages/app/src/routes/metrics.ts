import type { FastifyInstance } from 'fastify';
import type { ServerDeps } from '../server.js';

/** GET /metrics — Prometheus text format. */
export function metricsRoute(app: FastifyInstance, deps: ServerDeps): void {
  app.get('/metrics', { schema: { summary: 'Prometheus metrics', tags: ['operations'] } }, async (_request, reply) => {
    reply.header('Content-Type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
}
