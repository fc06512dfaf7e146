import type { FastifyInstance } from 'fastify';
import type { ServerDeps } from '../server.js';
import { healthResponseSchema } from './schemas.js';

const mb = (bytes: number): number => Number((bytes / 1024 / 1024).toFixed(1));

/**
 * GET /api/health — liveness: answers while the process can answer (analyses run in workers, so
 * it stays fast under load). GET /api/health/ready — readiness: 503 while shutting down.
 */
export function healthRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const { pool, memory, logging, state, config } = deps;
  const body = () => {
    const stats = logging.stats();
    const limit = memory.limit;
    const ratio = memory.usageRatio();
    return {
      status: state.shuttingDown ? 'shutting_down' : 'ok',
      ready: !state.shuttingDown,
      instance_id: state.instanceId,
      version: state.version,
      uptime_seconds: Math.round((Date.now() - state.startedAt) / 100) / 10,
      analyses_in_flight: pool.running,
      queue_length: pool.queued,
      queue_max: config.queueMax,
      workers: pool.workers,
      memory: { rss_mb: mb(memory.rss()), limit_mb: limit === null ? null : mb(limit), usage_ratio: ratio === null ? null : Number(ratio.toFixed(3)) },
      logging: { write_failures: stats.writeFailures, lines_dropped: stats.linesDropped, pending_bytes: stats.pendingBytes },
      // The previous run's crash, for the first minutes after this start.
      previous_crash: state.previousCrash && Date.now() - state.startedAt < config.previousCrashVisibleMs ? state.previousCrash : null,
    };
  };
  app.get('/api/health', { schema: { summary: 'Liveness and state', tags: ['operations'], response: { 200: healthResponseSchema } } }, async () => body());
  app.get(
    '/api/health/ready',
    { schema: { summary: 'Readiness: 503 while shutting down', tags: ['operations'], response: { 200: healthResponseSchema, 503: healthResponseSchema } } },
    async (_request, reply) => {
      const b = body();
      return reply.code(b.ready ? 200 : 503).send(b);
    },
  );
}
