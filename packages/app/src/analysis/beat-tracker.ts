/**
 * Tempo and beats from an onset-strength envelope: the tempo from the envelope's autocorrelation
 * (averaged over windows of about 12 s, weighted by a log-normal prior over tempo, as librosa's
 * tempo estimate), the beats by dynamic programming (Ellis 2007, "Beat tracking by dynamic
 * programming", as librosa's beat_track): each beat is placed on strong onsets while the gap to the
 * previous beat stays near the tempo's period.
 */
import FFT from 'fft.js';

export const MIN_BPM = 40;
export const MAX_BPM = 208;
/** The prior's centre and spread (octaves) over tempo: most music a musician practises sits near 120. */
const PRIOR_BPM = 120;
const PRIOR_OCTAVES = 1;
/** Autocorrelation windows, seconds (rounded to a power of two of frames), and how far apart they start. */
const ACF_WINDOW_SECONDS = 12;
/** How strictly the tracker keeps the period (librosa's tightness). */
const TIGHTNESS = 100;

export interface TempoEstimate {
  bpm: number;
  /** Its prior-weighted autocorrelation as a share of all the envelope's periodicities (0–1). */
  confidence: number;
  /** The envelope's autocorrelation at its period (1 at lag 0), before the prior. */
  periodicity: number;
}

/** Mean autocorrelation of the (mean-removed, Hann-windowed) envelope over windows, each normalised to 1 at lag 0. */
export function envelopeAutocorrelation(strength: Float32Array, frameRate: number, maxLag: number): Float64Array {
  const want = Math.min(strength.length, Math.round(ACF_WINDOW_SECONDS * frameRate));
  const win = Math.max(maxLag + 1, want);
  const size = 2 ** Math.ceil(Math.log2(2 * win));
  const fft = new FFT(size);
  const input = new Float64Array(size);
  const spec = fft.createComplexArray() as number[];
  const back = fft.createComplexArray() as number[];
  const acf = new Float64Array(maxLag + 1);
  const hop = Math.max(1, Math.floor(win / 2));
  let windows = 0;
  for (let start = 0; start === 0 || start + win <= strength.length; start += hop) {
    const len = Math.min(win, strength.length - start);
    let mean = 0;
    for (let i = 0; i < len; i++) mean += strength[start + i] ?? 0;
    mean /= Math.max(1, len);
    input.fill(0);
    for (let i = 0; i < len; i++) input[i] = ((strength[start + i] ?? 0) - mean) * (0.5 - 0.5 * Math.cos((2 * Math.PI * (i + 0.5)) / len));
    fft.realTransform(spec, input);
    fft.completeSpectrum(spec);
    for (let k = 0; k < size; k++) {
      const re = spec[2 * k] ?? 0;
      const im = spec[2 * k + 1] ?? 0;
      spec[2 * k] = re * re + im * im;
      spec[2 * k + 1] = 0;
    }
    fft.inverseTransform(back, spec);
    const zero = back[0] ?? 0;
    if (zero > 0) {
      for (let lag = 0; lag <= maxLag; lag++) acf[lag] = (acf[lag] ?? 0) + (back[2 * lag] ?? 0) / zero;
      windows++;
    }
    if (start + win >= strength.length) break;
  }
  if (windows > 0) for (let lag = 0; lag <= maxLag; lag++) acf[lag] = (acf[lag] ?? 0) / windows;
  return acf;
}

/**
 * The tempi the envelope repeats at (local maxima of its autocorrelation between minBpm and
 * maxBpm), each scored by its autocorrelation weighted by the prior, strongest first; only those
 * scoring at least `keep` × the strongest.
 */
export function tempoCandidates(strength: Float32Array, frameRate: number, keep = 0.5, minBpm = MIN_BPM, maxBpm = MAX_BPM): TempoEstimate[] {
  const minLag = Math.max(1, Math.floor((60 * frameRate) / maxBpm));
  const maxLag = Math.ceil((60 * frameRate) / minBpm);
  if (strength.length < 2 * minLag + 2) return [];
  const acf = envelopeAutocorrelation(strength, frameRate, maxLag + 1);
  const peaks: Array<{ lag: number; score: number; periodicity: number }> = [];
  for (let lag = Math.max(2, minLag); lag <= maxLag; lag++) {
    const v = acf[lag] ?? 0;
    if (!(v > 0) || v < (acf[lag - 1] ?? 0) || v < (acf[lag + 1] ?? 0)) continue;
    // Parabolic interpolation of the peak for a period finer than a frame.
    const a = acf[lag - 1] ?? 0;
    const c = acf[lag + 1] ?? 0;
    const denom = a - 2 * v + c;
    const fine = denom < 0 ? lag + (0.5 * (a - c)) / denom : lag;
    const bpm = (60 * frameRate) / fine;
    // The lag range is whole frames: a peak interpolated just past either end still counts.
    if (bpm < 0.97 * minBpm || bpm > 1.03 * maxBpm) continue;
    const prior = Math.exp(-0.5 * (Math.log2(bpm / PRIOR_BPM) / PRIOR_OCTAVES) ** 2);
    peaks.push({ lag: fine, score: v * prior, periodicity: v });
  }
  if (peaks.length === 0) return [];
  peaks.sort((x, y) => y.score - x.score);
  const best = peaks[0]?.score ?? 0;
  const total = peaks.reduce((sum, p) => sum + p.score, 0);
  return peaks.filter((p) => p.score >= keep * best).map((p) => ({ bpm: (60 * frameRate) / p.lag, confidence: p.score / total, periodicity: p.periodicity }));
}

/**
 * Beat frames by dynamic programming over the envelope at a given tempo (Ellis 2007): the local
 * score is the envelope (scaled by its standard deviation) smoothed by a Gaussian a period wide;
 * each frame's cumulative score adds the best predecessor's, penalised by how far the gap strays
 * from the period (log-squared). The last beat is the last strong local maximum of the cumulative
 * score; weak beats at the start and end (silence before and after the playing) are trimmed.
 */
export function trackBeats(strength: Float32Array, frameRate: number, bpm: number): number[] {
  const n = strength.length;
  const period = (60 * frameRate) / bpm;
  if (n < 2 || !(period >= 1)) return [];
  let mean = 0;
  for (let i = 0; i < n; i++) mean += strength[i] ?? 0;
  mean /= n;
  let variance = 0;
  for (let i = 0; i < n; i++) variance += ((strength[i] ?? 0) - mean) ** 2;
  const std = Math.sqrt(variance / Math.max(1, n - 1));
  if (!(std > 0)) return [];
  const p = Math.round(period);
  const kernel = new Float64Array(2 * p + 1);
  for (let k = -p; k <= p; k++) kernel[k + p] = Math.exp(-0.5 * ((k * 32) / period) ** 2);
  const local = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    const from = Math.max(0, i - p);
    const to = Math.min(n - 1, i + p);
    for (let j = from; j <= to; j++) s += (kernel[j - i + p] ?? 0) * (strength[j] ?? 0);
    local[i] = s / std;
  }
  let maxLocal = 0;
  for (let i = 0; i < n; i++) maxLocal = Math.max(maxLocal, local[i] ?? 0);
  const cumulative = new Float64Array(n);
  const backlink = new Int32Array(n).fill(-1);
  const lo = Math.round(2 * period);
  const hi = Math.max(1, Math.round(period / 2));
  const penalty = new Float64Array(lo + 1);
  for (let d = hi; d <= lo; d++) penalty[d] = -TIGHTNESS * Math.log(d / period) ** 2;
  let first = true;
  for (let i = 0; i < n; i++) {
    let best = -Infinity;
    let arg = -1;
    // A predecessor may lie before the recording began (nothing accumulated there, and no beat to
    // link back to): the first beat of a take that starts a fraction of a period in has a
    // predecessor a whole period back as much as any other beat. Searching only from frame 0, its
    // choices were gaps of half a period and less, penalised, and the beat after it linked past it
    // to the silence before: the first beat was dropped (slow takes starting within a period).
    for (let d = hi; d <= lo; d++) {
      const s = (i - d >= 0 ? (cumulative[i - d] ?? 0) : 0) + (penalty[d] ?? 0);
      if (s > best) {
        best = s;
        arg = i - d >= 0 ? i - d : -1;
      }
    }
    const score = local[i] ?? 0;
    if (first && score < 0.01 * maxLocal) {
      cumulative[i] = score;
      backlink[i] = -1;
    } else {
      first = false;
      cumulative[i] = score + best;
      backlink[i] = arg;
    }
  }
  // The last beat: the last local maximum of the cumulative score above half the median of them.
  const maxima: number[] = [];
  for (let i = 1; i < n - 1; i++) if ((cumulative[i] ?? 0) > (cumulative[i - 1] ?? 0) && (cumulative[i] ?? 0) >= (cumulative[i + 1] ?? 0)) maxima.push(i);
  if (maxima.length === 0) return [];
  const sorted = maxima.map((i) => cumulative[i] ?? 0).sort((a, b) => a - b);
  const threshold = 0.5 * (sorted[Math.floor(sorted.length / 2)] ?? 0);
  let last = maxima[maxima.length - 1] ?? 0;
  for (let k = maxima.length - 1; k >= 0; k--) {
    if ((cumulative[maxima[k] ?? 0] ?? 0) >= threshold) {
      last = maxima[k] ?? 0;
      break;
    }
  }
  const beats: number[] = [];
  for (let i = last; i >= 0; i = backlink[i] ?? -1) beats.push(i);
  beats.reverse();
  return trimWeakBeats(beats, local);
}

/** Drops beats at the start and end whose (Hann-smoothed) local score is under half its RMS: the tracker's guesses through silence. */
function trimWeakBeats(beats: number[], local: Float64Array): number[] {
  if (beats.length < 3) return beats;
  const hann = [0.25, 0.75, 1, 0.75, 0.25];
  const at = beats.map((b) => local[b] ?? 0);
  const smooth = at.map((_, i) => hann.reduce((s, w, k) => s + w * (at[i + k - 2] ?? 0), 0));
  const threshold = 0.5 * Math.sqrt(smooth.reduce((s, v) => s + v * v, 0) / smooth.length);
  let from = 0;
  while (from < smooth.length && (smooth[from] ?? 0) <= threshold) from++;
  let to = smooth.length;
  while (to > from && (smooth[to - 1] ?? 0) <= threshold) to--;
  return beats.slice(from, to);
}
