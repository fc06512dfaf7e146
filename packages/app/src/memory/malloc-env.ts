/**
 * The glibc malloc setting the service runs with: the image sets it (Dockerfile), `pnpm start` and
 * the benchmarks start the service with it.
 *
 * glibc raises its mmap threshold each time a large mapped block is freed (up to 32 MB), so after
 * the first upload, later upload buffers and decoded signals come from the heap, whose freed pages
 * an idle process keeps. A fixed threshold of 128 KiB keeps large blocks mapped, so they go back to
 * the system when freed. `npx pnpm@10.34.9 bench:upload-memory`, side by side in one run: 60 s
 * after refused and analysed uploads, RSS 1.10× its idle figure with this setting, 2.15× with
 * glibc's defaults (65536 and 16384 measured 1.06× and 1.12×, within the noise).
 */
export const MALLOC_ENV = { MALLOC_MMAP_THRESHOLD_: '131072' } as const;
