/** The headline figures: tempo, key, tuning, timing, length and processing time. */
import type { Analysis, Hints } from './types.js';

const pct = (ratio: number): string => `${Math.round(ratio * 100)} %`;

function seconds(s: number): string {
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

interface Figure {
  id: string;
  label: string;
  value: string;
  detail: string;
}

/** Other readings the API may list for an uncertain tempo (half or double, with their confidence), shown when present. */
function tempoAlternatives(tempo: Analysis['tempo']): string {
  const candidates = tempo.candidates;
  if (!Array.isArray(candidates)) return '';
  const others = candidates
    .filter((c): c is { bpm: number; confidence?: number; relation?: string } => typeof c === 'object' && c !== null && typeof (c as { bpm?: unknown }).bpm === 'number')
    .filter((c) => c.relation !== 'reported' && (tempo.bpm === null || Math.abs(c.bpm - tempo.bpm) > 0.5))
    .map((c) => {
      const why = [c.relation, typeof c.confidence === 'number' ? pct(c.confidence) : null].filter(Boolean).join(', ');
      return `${c.bpm.toFixed(1)} BPM${why ? ` (${why})` : ''}`;
    });
  return others.length > 0 ? `; other readings: ${others.join(', ')}` : '';
}

function tempoFigure(a: Analysis, hints: Hints): Figure {
  const hint = hints.tempoBpm !== null ? `; your metronome: ${hints.tempoBpm} BPM` : '';
  if (a.tempo.bpm === null) return { id: 'tempo', label: 'Tempo', value: 'no steady beat', detail: `no beat was found${hint}` };
  const uncertainty = typeof a.tempo.uncertainty_bpm === 'number' ? ` ± ${a.tempo.uncertainty_bpm.toFixed(1)}` : '';
  return {
    id: 'tempo',
    label: 'Tempo',
    value: `${a.tempo.bpm.toFixed(1)}${uncertainty} BPM`,
    detail: `confidence ${pct(a.tempo.confidence)} (share of beats evenly spaced)${tempoAlternatives(a.tempo)}${hint}`,
  };
}

function keyFigure(a: Analysis, hints: Hints): Figure {
  const hint = hints.key ? `; you expected ${hints.key}` : '';
  if (!a.key) return { id: 'key', label: 'Key', value: 'not found', detail: `no key could be heard${hint}` };
  const alternatives = Array.isArray(a.key.alternatives) ? a.key.alternatives.filter((k): k is string => typeof k === 'string') : [];
  const also = alternatives.length > 0 ? `; close to ${alternatives.join(' and ')}` : '';
  return { id: 'key', label: 'Key', value: a.key.name, detail: `strength ${pct(a.key.strength)}${also}${hint}` };
}

function tuningFigure(a: Analysis): Figure {
  if (!a.tuning) return { id: 'tuning', label: 'Tuning', value: 'not measured', detail: 'no clear notes to measure' };
  const c = a.tuning.cents_from_a440;
  const sign = c > 0 ? '+' : c < 0 ? '−' : '±';
  const words = Math.abs(c) < 3 ? 'in tune' : c > 0 ? 'sharp' : 'flat';
  return { id: 'tuning', label: 'Tuning', value: `${sign}${Math.abs(c).toFixed(1)} cents`, detail: `from A = 440 Hz: ${words} (your A is ${a.tuning.frequency_hz.toFixed(1)} Hz)` };
}

function timingFigure(a: Analysis): Figure {
  const t = a.onsets.timing;
  if (!t) return { id: 'timing', label: 'Timing', value: 'not measured', detail: 'needs a beat and some notes' };
  return {
    id: 'timing',
    label: 'Timing',
    value: `${pct(t.within_30ms_ratio)} within 30 ms`,
    detail: `notes sit ${t.median_offset_ms.toFixed(0)} ms from the beat grid (median; mean ${t.mean_offset_ms.toFixed(0)} ms), steadiness ${pct(t.steadiness)}`,
  };
}

function processingFigure(a: Analysis): Figure {
  const total = a.processing.total_ms / 1000;
  const speed = a.audio.duration_seconds / Math.max(total, 0.001);
  return {
    id: 'processing',
    label: 'Analysed in',
    value: `${total.toFixed(1)} s`,
    detail: `${seconds(a.audio.duration_seconds)} of audio, ${speed.toFixed(0)}× real time; ${a.notes.length} notes, ${a.chords.length} chord changes`,
  };
}

export function renderFigures(list: HTMLElement, a: Analysis, hints: Hints): void {
  const figures = [tempoFigure(a, hints), keyFigure(a, hints), tuningFigure(a), timingFigure(a), processingFigure(a)];
  list.replaceChildren(
    ...figures.map((f) => {
      const item = document.createElement('div');
      item.className = 'figure';
      item.dataset.figure = f.id;
      const dt = document.createElement('dt');
      dt.textContent = f.label;
      const value = document.createElement('dd');
      value.className = 'value';
      value.textContent = f.value;
      const detail = document.createElement('dd');
      detail.className = 'detail';
      detail.textContent = f.detail;
      item.append(dt, value, detail);
      return item;
    }),
  );
}
