import type { ProgressEvent } from './types.js';

/** Hands each worker progress event to the request it belongs to. */
export class ProgressRouter {
  private readonly handlers = new Map<string, (event: ProgressEvent) => void>();

  on(requestId: string, handler: (event: ProgressEvent) => void): () => void {
    this.handlers.set(requestId, handler);
    return () => this.handlers.delete(requestId);
  }

  dispatch(event: ProgressEvent): void {
    this.handlers.get(event.requestId)?.(event);
  }
}
