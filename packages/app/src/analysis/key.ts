import type { EssentiaApi, EssentiaVector } from './essentia.js';

export interface Key {
  tonic: string;
  scale: string;
  name: string;
  strength: number;
}

/**
 * Key over the whole signal: KeyExtractor with the `edma` profile (right on both full mixes and
 * single-note licks here, where the default profile named the relative major).
 */
export function analyzeKey(essentia: EssentiaApi, signal: EssentiaVector): Key | null {
  const out = essentia.KeyExtractor(signal, true, 4096, 4096, 12, 3500, 60, 25, 0.2, 'edma');
  if (!out.key || !(out.strength > 0)) return null;
  return { tonic: out.key, scale: out.scale, name: `${out.key} ${out.scale}`, strength: Number(out.strength.toFixed(3)) };
}
