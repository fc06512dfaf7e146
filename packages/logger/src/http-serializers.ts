/**
 * What a Fastify (or plain Node) request and reply become in a record: method, URL, client
 * address and status, never headers or bodies. Fastify logs them under `req` and `res`.
 */

interface RequestLike {
  method?: unknown;
  url?: unknown;
  ip?: unknown;
  hostname?: unknown;
  socket?: { remoteAddress?: unknown } | null;
  raw?: { socket?: { remoteAddress?: unknown } | null };
}

interface ReplyLike {
  statusCode?: unknown;
}

export function serializeRequest(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  const req = value as RequestLike;
  const remote = req.ip ?? req.socket?.remoteAddress ?? req.raw?.socket?.remoteAddress;
  return {
    method: typeof req.method === 'string' ? req.method : undefined,
    url: typeof req.url === 'string' ? req.url : undefined,
    host: typeof req.hostname === 'string' ? req.hostname : undefined,
    remote_address: typeof remote === 'string' ? remote : undefined,
  };
}

export function serializeReply(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  const res = value as ReplyLike;
  return { status_code: typeof res.statusCode === 'number' ? res.statusCode : undefined };
}

export const httpSerializers = { req: serializeRequest, res: serializeReply };
