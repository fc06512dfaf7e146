/**
 * The pitch that starts at an onset: harmonic salience (the summed magnitudes at a candidate's first
 * harmonics, weighted down the series) on the spectrum just after the onset, less what was already
 * sounding just before it. A candidate an octave too low collects nothing at its own fundamental
 * and odd harmonics, one an octave too high misses the odd ones: both score below the true pitch.
 * Subtracting the sound before the onset lets the note that was just played stand out of a mix
 * (a held chord, a ringing bass note). Where several notes start together (a band), the notes are
 * also found one by one, each one's partials taken out before the next is looked for (`voices`).
 */
import { magnitudeSpectrum } from './spectrum.js';

export const FRAME = 4096;
const HARMONICS = 6;
const DECAY = 0.95;
/** The voices (see OnsetPitcher.voices) are looked for from E1, a bass's lowest string, so a bass note is found as itself and not as its overtones. */
const VOICE_FLOOR_MIDI = 28;
/** Harmonics a voice is measured and taken out on: enough that a note's octave below or above misses many of them. */
const VOICE_HARMONICS = 15;
/** The share of the spectrum before the onset taken from the one after it, bin by bin: what kept sounding did not start here. */
const VOICE_BEFORE = 0.5;

export interface OnsetPitch {
  midi: number;
  hz: number;
  /** 0–1: the share of the frame's spectral peaks that the note's harmonics explain. */
  confidence: number;
}

/** The bins within ±`cents` of hz (lo > hi when none). */
function span(hz: number, binHz: number, cents: number, length: number): { lo: number; hi: number } {
  return { lo: Math.max(1, Math.floor((hz * 2 ** (-cents / 1200)) / binHz)), hi: Math.min(length - 2, Math.ceil((hz * 2 ** (cents / 1200)) / binHz)) };
}

/** Largest magnitude within ±`cents` of hz (0 outside the spectrum), and its bin (-1 when none is above 0). */
function around(mags: Float32Array, hz: number, binHz: number, cents: number): { mag: number; bin: number } {
  const { lo, hi } = span(hz, binHz, cents, mags.length);
  let mag = 0;
  let bin = -1;
  for (let k = lo; k <= hi; k++) {
    const m = mags[k]!;
    if (m > mag) {
      mag = m;
      bin = k;
    }
  }
  return { mag, bin };
}

/** Largest magnitude among bins lo..hi (0 when none). */
function maxIn(mags: Float32Array, lo: number, hi: number): number {
  let mag = 0;
  for (let k = lo; k <= hi; k++) if (mags[k]! > mag) mag = mags[k]!;
  return mag;
}

/** The pitches that start at an onset (see OnsetPitcher.candidates). */
export interface Candidates {
  best: number;
  pitches: Array<{ midi: number; gain: number }>;
  /** The notes found one by one in what rose at the onset (see OnsetPitcher.voices), most salient first; some may lie below the guitar's range. */
  voices: Array<{ midi: number; salience: number }>;
  /** Frequency and confidence of `best` and of each of `pitches`, as `describe` gives them. */
  described: Map<number, OnsetPitch>;
}

export class OnsetPitcher {
  private readonly after = new Float32Array(FRAME / 2 + 1);
  private readonly before = new Float32Array(FRAME / 2 + 1);
  /**
   * Per candidate pitch (lowMidi..highMidi), the bin range within ±35 cents of each of its first
   * HARMONICS harmonics below the top of the spectrum, computed once: every onset reads the same ranges.
   */
  private readonly ranges: Int32Array[] = [];
  /** Per pitch VOICE_FLOOR_MIDI..highMidi, the bin ranges of its first VOICE_HARMONICS harmonics (as `ranges`). */
  private readonly voiceRanges: Int32Array[] = [];
  /** Per pitch VOICE_FLOOR_MIDI..highMidi, the weight of each of those harmonics in a voice's salience. */
  private readonly voiceWeights: Float64Array[] = [];
  /** What rose at the loaded onset, per bin (square roots), partials of the voices found so far taken out. */
  private readonly risen = new Float32Array(FRAME / 2 + 1);
  private readonly partialPeaks = new Float64Array(VOICE_HARMONICS);

  constructor(
    private readonly signal: Float32Array,
    private readonly sampleRate: number,
    /** A4 in Hz (the detected tuning). */
    private readonly referenceHz: number,
    private readonly lowMidi: number,
    private readonly highMidi: number,
  ) {
    const binHz = sampleRate / FRAME;
    const length = FRAME / 2 + 1;
    /** The bin ranges within ±35 cents of the first `count` harmonics of `m` that lie below bin `top`. */
    const harmonicRanges = (m: number, count: number, top: number): Int32Array => {
      const f0 = referenceHz * 2 ** ((m - 69) / 12);
      const bounds: number[] = [];
      for (let h = 1; h <= count && f0 * h < binHz * top; h++) {
        const { lo, hi } = span(f0 * h, binHz, 35, length);
        bounds.push(lo, hi);
      }
      return Int32Array.from(bounds);
    };
    for (let m = lowMidi; m <= highMidi; m++) this.ranges.push(harmonicRanges(m, HARMONICS, length - 2));
    for (let m = VOICE_FLOOR_MIDI; m <= highMidi; m++) {
      const bounds = harmonicRanges(m, VOICE_HARMONICS, length - 3);
      this.voiceRanges.push(bounds);
      // Klapuri's weight of harmonic h, (f0 + α) / (h·f0 + β): the same for every onset.
      const f0 = referenceHz * 2 ** ((m - 69) / 12);
      this.voiceWeights.push(Float64Array.from({ length: bounds.length / 2 }, (_, i) => (f0 + 20) / ((i + 1) * f0 + 320)));
    }
  }

  /** Harmonic salience of `midi` in `mags`: its harmonics' peak magnitudes (square roots), weighted down the series. */
  private salience(mags: Float32Array, midi: number): number {
    const bounds = this.ranges[midi - this.lowMidi]!;
    let s = 0;
    let w = 1;
    for (let i = 0; i < bounds.length; i += 2) {
      s += w * Math.sqrt(maxIn(mags, bounds[i]!, bounds[i + 1]!));
      w *= DECAY;
    }
    return s;
  }

  /** Reads the spectra just after and just before an onset; false when the onset is too close to the end. */
  private load(onset: number): boolean {
    const start = Math.round((onset + 0.03) * this.sampleRate);
    if (start + FRAME > this.signal.length) return false;
    magnitudeSpectrum(this.signal, start, FRAME, this.after);
    magnitudeSpectrum(this.signal, Math.round((onset - 0.005) * this.sampleRate) - FRAME, FRAME, this.before);
    return true;
  }

  /** The most salient pitch that starts at `onset` seconds, or null if nothing pitched starts there. */
  at(onset: number): OnsetPitch | null {
    const c = this.candidates(onset);
    return c ? this.describe(onset, c.best) : null;
  }

  /**
   * The pitches that start at `onset`: the most salient one after the octave checks (`best`), and
   * the `count` strongest local maxima of the salience gained at the onset with their gains — in a
   * band the line on top is often not the most salient new pitch, but it is among these.
   */
  candidates(onset: number, count = 4, voiceCount = 0): Candidates | null {
    if (!this.load(onset)) return null;
    const gains = new Float64Array(this.highMidi - this.lowMidi + 1);
    let best = -1;
    let bestScore = 0;
    for (let m = this.lowMidi; m <= this.highMidi; m++) {
      const score = this.salience(this.after, m) - 0.4 * this.salience(this.before, m);
      gains[m - this.lowMidi] = score;
      if (score > bestScore) {
        bestScore = score;
        best = m;
      }
    }
    if (best < 0) return null;
    const pitches: Array<{ midi: number; gain: number }> = [];
    gains.forEach((g, i) => {
      if (g > 0 && g >= (gains[i - 1] ?? 0) && g >= (gains[i + 1] ?? 0)) pitches.push({ midi: this.lowMidi + i, gain: g });
    });
    pitches.sort((x, y) => y.gain - x.gain);
    const checked = this.octaveChecked(best);
    const top = pitches.slice(0, count);
    // Each candidate described now, from the spectra already loaded (the notes pick one later).
    const described = new Map<number, OnsetPitch>();
    const total = this.peakTotal();
    for (const midi of [checked, ...top.map((p) => p.midi)]) if (!described.has(midi)) described.set(midi, this.describeLoaded(midi, total));
    return { best: checked, pitches: top, voices: this.voices(voiceCount), described };
  }

  /**
   * The `count` notes that started at the loaded onset, found one at a time (iterative estimation
   * and cancellation, after Klapuri 2006): in what rose at the onset (the spectrum after it less half
   * the one before it, bin by bin), the pitch whose harmonics sum highest (weighted (f0 + α) /
   * (h·f0 + β) as there, α 20 Hz, β 320 Hz: the low harmonics of a high note count more), then its partials taken out and
   * the next pitch looked for. A partial is taken out only as far as the note's smooth spectral
   * envelope reaches (the mean of it and its neighbours), so a partial another note shares keeps
   * that note's part. A bass note found first takes its overtones with it; a lead found takes the
   * harmonics that made its octave below look salient; what is left of a strum stays its own notes.
   */
  private voices(count: number): Array<{ midi: number; salience: number }> {
    const found: Array<{ midi: number; salience: number }> = [];
    if (count <= 0) return found;
    const risen = this.risen;
    for (let k = 0; k < risen.length; k++) risen[k] = Math.sqrt(Math.max(0, this.after[k]! - VOICE_BEFORE * this.before[k]!));
    for (let n = 0; n < count; n++) {
      let best = -1;
      let bestSalience = 0;
      for (let m = VOICE_FLOOR_MIDI; m <= this.highMidi; m++) {
        const bounds = this.voiceRanges[m - VOICE_FLOOR_MIDI]!;
        const weights = this.voiceWeights[m - VOICE_FLOOR_MIDI]!;
        let s = 0;
        for (let i = 0; i < bounds.length; i += 2) s += weights[i / 2]! * maxIn(risen, bounds[i]!, bounds[i + 1]!);
        if (s > bestSalience) {
          bestSalience = s;
          best = m;
        }
      }
      if (best < 0) break;
      found.push({ midi: best, salience: bestSalience });
      const bounds = this.voiceRanges[best - VOICE_FLOOR_MIDI]!;
      const partials = bounds.length / 2;
      const peaks = this.partialPeaks;
      for (let i = 0; i < partials; i++) peaks[i] = maxIn(risen, bounds[2 * i]!, bounds[2 * i + 1]!);
      for (let i = 0; i < partials; i++) {
        const p = peaks[i]!;
        if (!(p > 0)) continue;
        const envelope = (peaks[Math.max(0, i - 1)]! + p + peaks[Math.min(partials - 1, i + 1)]!) / 3;
        const keep = 1 - Math.min(p, envelope) / p;
        // The partial's bins and the window's main lobe around them.
        const lo = Math.max(0, bounds[2 * i]! - 1);
        const hi = Math.min(risen.length - 1, bounds[2 * i + 1]! + 1);
        for (let k = lo; k <= hi; k++) risen[k] = risen[k]! * keep;
      }
    }
    return found;
  }

  /** Moves a pitch down an octave or a twelfth when the lower note's own partials say it was played (uses the loaded spectra). */
  private octaveChecked(pitch: number): number {
    const binHz = this.sampleRate / FRAME;
    let best = pitch;
    // A guitar's fundamental can be weaker than its octave: if the pitch an octave below has its own
    // odd harmonics (which the higher candidate cannot explain), the lower one is the note.
    if (best - 12 >= this.lowMidi) {
      const low = this.referenceHz * 2 ** ((best - 12 - 69) / 12);
      let odd = 0;
      let even = 0;
      for (let h = 1; h <= 6; h++) {
        const a = Math.sqrt(around(this.after, low * h, binHz, 35).mag) - 0.7 * Math.sqrt(around(this.before, low * h, binHz, 35).mag);
        if (h % 2 === 1) odd += Math.max(0, a);
        else even += Math.max(0, a);
      }
      if (odd > 0.5 * even) best -= 12;
    }
    // Likewise a twelfth below (the chosen pitch being the third harmonic): its fundamental and
    // second harmonic sound and are new at this onset.
    if (best - 19 >= this.lowMidi) {
      const low = this.referenceHz * 2 ** ((best - 19 - 69) / 12);
      const fresh = (h: number): number => Math.sqrt(around(this.after, low * h, binHz, 35).mag) - 0.7 * Math.sqrt(around(this.before, low * h, binHz, 35).mag);
      const top = Math.sqrt(around(this.after, low * 3, binHz, 35).mag);
      if (fresh(1) > 0.4 * top && fresh(2) > 0.4 * top) best -= 19;
    }
    return best;
  }

  /** Frequency and confidence of `midi` as the pitch started at `onset`. */
  describe(onset: number, midi: number): OnsetPitch | null {
    if (!this.load(onset)) return null;
    return this.describeLoaded(midi, this.peakTotal());
  }

  /** The square roots of the loaded spectrum's peaks between 60 Hz and 5 kHz, summed: the frame's sound. */
  private peakTotal(): number {
    const binHz = this.sampleRate / FRAME;
    let total = 0;
    const maxBin = Math.min(this.after.length - 1, Math.ceil(5000 / binHz));
    for (let k = Math.floor(60 / binHz); k <= maxBin; k++) {
      const m = this.after[k] ?? 0;
      if (m > (this.after[k - 1] ?? 0) && m >= (this.after[k + 1] ?? 0)) total += Math.sqrt(m);
    }
    return total;
  }

  /** Frequency and confidence of `midi` in the loaded spectra (`total`: their peakTotal). */
  private describeLoaded(midi: number, total: number): OnsetPitch {
    const binHz = this.sampleRate / FRAME;
    const best = midi;
    // Confidence: how much of the frame's sound the note's harmonics carry.
    const f0 = this.referenceHz * 2 ** ((best - 69) / 12);
    let explained = 0;
    for (let h = 1; h <= HARMONICS; h++) explained += Math.sqrt(around(this.after, f0 * h, binHz, 35).mag);
    // The fundamental's measured frequency (parabolic interpolation of its peak), for the answer.
    const peak = around(this.after, f0, binHz, 50);
    let hz = f0;
    if (peak.bin > 0) {
      const a = Math.log((this.after[peak.bin - 1] ?? 0) + 1e-12);
      const b = Math.log((this.after[peak.bin] ?? 0) + 1e-12);
      const c = Math.log((this.after[peak.bin + 1] ?? 0) + 1e-12);
      const d = a - 2 * b + c;
      hz = (peak.bin + (d < 0 ? (0.5 * (a - c)) / d : 0)) * binHz;
    }
    return { midi: best, hz, confidence: total > 0 ? Math.min(1, explained / total) : 0 };
  }
}
