import type { ProgressEvent } from './types.js';

interface Route {
  handler: (event: ProgressEvent) => void;
  handled: number;
  /** Called when `handled` reaches what the worker said it posted. */
  waiting: { count: number; resolve: () => void } | null;
}

/** Hands each worker progress event to the request it belongs to. */
export class ProgressRouter {
  private readonly routes = new Map<string, Route>();

  on(requestId: string, handler: (event: ProgressEvent) => void): () => void {
    this.routes.set(requestId, { handler, handled: 0, waiting: null });
    return () => {
      this.routes.get(requestId)?.waiting?.resolve();
      this.routes.delete(requestId);
    };
  }

  dispatch(event: ProgressEvent): void {
    const route = this.routes.get(event.requestId);
    if (!route) return;
    route.handler(event);
    route.handled++;
    if (route.waiting && route.handled >= route.waiting.count) route.waiting.resolve();
  }

  /** Resolves once `count` events of the request were handled, or after `timeoutMs`. */
  settle(requestId: string, count: number, timeoutMs = 2000): Promise<void> {
    const route = this.routes.get(requestId);
    if (!route || route.handled >= count) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      route.waiting = {
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
    });
  }
}
