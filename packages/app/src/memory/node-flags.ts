/**
 * The node flags the service runs with: the image's CMD and `pnpm start` pass them, the
 * benchmarks start the service with them, and a test checks all three agree.
 *
 * `--expose-gc` gives the main thread `gc()`, which the idle collector (idle-collect.ts) calls
 * once, a few seconds after the last upload or analysis ended, so an idle service gives back the
 * memory its last requests left for the garbage collector.
 */
export const NODE_FLAGS = ['--expose-gc'] as const;
