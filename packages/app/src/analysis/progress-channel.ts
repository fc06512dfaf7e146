/**
 * The channel a split analysis' helper thread posts its progress on, straight to the main thread:
 * relayed through the analysis worker, its events would wait until that worker's own (blocking)
 * essentia call ended.
 */
export const PROGRESS_CHANNEL = 'guitar-backend:analysis-progress';
