/**
 * The timeline: four uPlot charts on one time axis — loudness, onset timing, chords, notes (a piano
 * roll) — with the beat grid drawn across each. Drag on a chart to zoom in, or use the toolbar /
 * keyboard; every chart follows the same view.
 */
import type { Analysis } from './types.js';
import { onsetOffsetsMs, TIMING_BUCKETS } from './timing.js';

type Plot = uPlot;
type Data = uPlot.AlignedData;

const NOTE_NAMES = ['C', 'C♯', 'D', 'D♯', 'E', 'F', 'F♯', 'G', 'G♯', 'A', 'A♯', 'B'];
const noteName = (midi: number): string => `${NOTE_NAMES[((midi % 12) + 12) % 12]}${Math.floor(midi / 12) - 1}`;

const AXIS = { stroke: '#3b3b3b', grid: { stroke: '#e4e4e4', width: 1 }, ticks: { stroke: '#c8c8c8', width: 1 } };

function timeLabel(seconds: number): string {
  if (seconds < 60) return `${Number(seconds.toFixed(2))} s`;
  const m = Math.floor(seconds / 60);
  const s = seconds - m * 60;
  return `${m}:${s.toFixed(s % 1 === 0 ? 0 : 1).padStart(2, '0')}`;
}

const xAxis = (show: boolean): uPlot.Axis => ({ ...AXIS, show, values: (_u, splits) => splits.map(timeLabel), size: show ? 36 : 0 });

/** Vertical beat lines across a chart (only when they are far enough apart to read). */
function beatGrid(beats: readonly number[]): uPlot.Plugin {
  return {
    hooks: {
      drawAxes: (u: Plot) => {
        const { top, width, height } = u.bbox;
        const min = u.scales.x?.min ?? 0;
        const max = u.scales.x?.max ?? 0;
        const spacing = beats.length > 1 ? (((beats.at(-1) ?? 0) - (beats[0] ?? 0)) / (beats.length - 1) / Math.max(max - min, 1e-9)) * width : 0;
        if (spacing < 5 * devicePixelRatio) return;
        const ctx = u.ctx;
        ctx.save();
        ctx.strokeStyle = 'rgba(60, 60, 160, 0.28)';
        ctx.lineWidth = devicePixelRatio;
        ctx.beginPath();
        for (const b of beats) {
          if (b < min || b > max) continue;
          const x = Math.round(u.valToPos(b, 'x', true)) + 0.5;
          ctx.moveTo(x, top);
          ctx.lineTo(x, top + height);
        }
        ctx.stroke();
        ctx.restore();
      },
    },
  };
}

/** Rectangles from x to x + width[i] at y ± halfHeight: notes in the piano roll, chords in their lane. */
function boxes(widths: ArrayLike<number>, halfHeight: number): uPlot.Series.PathBuilder {
  return (u, seriesIdx, idx0, idx1) => {
    const xs = u.data[0];
    const ys = u.data[seriesIdx] as ArrayLike<number | null>;
    const fill = new Path2D();
    for (let i = idx0; i <= idx1; i++) {
      const y = ys[i];
      const x = xs[i];
      if (y === null || y === undefined || x === undefined) continue;
      const x0 = u.valToPos(x, 'x', true);
      const x1 = u.valToPos(x + (widths[i] ?? 0), 'x', true);
      const yTop = u.valToPos(y + halfHeight, 'y', true);
      const yBottom = u.valToPos(y - halfHeight, 'y', true);
      fill.rect(x0, yTop, Math.max(x1 - x0 - 1, 1), Math.max(yBottom - yTop, 1));
    }
    return { stroke: fill, fill };
  };
}

/** The onset chart's half-height, ms: room for nearly every onset, at least ±80 ms, at most half an eighth note. */
function offsetLimit(offsets: ReadonlyArray<number | null>, beats: readonly number[]): number {
  const sizes = offsets.filter((o): o is number => o !== null).map(Math.abs).sort((x, y) => x - y);
  const p98 = sizes[Math.floor(sizes.length * 0.98)] ?? 0;
  const beatMs = beats.length > 1 ? (((beats.at(-1) ?? 0) - (beats[0] ?? 0)) / (beats.length - 1)) * 1000 : 500;
  return Math.round(Math.max(80, Math.min(p98 * 1.2, beatMs / 4)));
}

export interface TimelineView {
  min: number;
  max: number;
}

export class Timeline {
  readonly plots: Record<'loudness' | 'onsets' | 'chords' | 'notes', Plot>;
  private readonly duration: number;
  private syncing = false;
  private readonly resize: ResizeObserver;
  onViewChange: (view: TimelineView) => void = () => {};

  constructor(
    private readonly container: HTMLElement,
    slots: Record<'loudness' | 'onsets' | 'chords' | 'notes', HTMLElement>,
    a: Analysis,
  ) {
    this.duration = Math.max(a.audio.duration_seconds, 0.1);
    const width = this.width();
    const beats = a.tempo.beats;
    const common = (height: number, showX: boolean): Omit<uPlot.Options, 'series'> => ({
      width,
      height,
      legend: { show: false },
      // The same padding everywhere, so the four plots share one time axis to the pixel.
      padding: [8, 18, 0, 0],
      cursor: { drag: { x: true, y: false, setScale: true }, points: { show: false } },
      scales: { x: { time: false, min: 0, max: this.duration } },
      axes: [xAxis(showX), { ...AXIS, size: 56 }],
      plugins: [beatGrid(beats)],
      hooks: { setScale: [(u: Plot, key: string) => key === 'x' && this.follow(u)] },
    });

    // Loudness: one value per window, drawn at the window's middle.
    const w = a.loudness.window_seconds;
    const loudX = a.loudness.rms_db.map((_, i) => (i + 0.5) * w);
    const loudY = a.loudness.rms_db.map((v) => (Number.isFinite(v) ? v : null));
    const loudness = new uPlot(
      {
        ...common(150, false),
        axes: [xAxis(false), { ...AXIS, size: 56 }],
        series: [
          {},
          { label: 'loudness (dBFS)', stroke: '#4a3f9f', fill: 'rgba(74, 63, 159, 0.18)', fillTo: (u: Plot) => u.scales.y?.min ?? -100, width: 1.5, points: { show: false } },
        ],
      },
      [loudX, loudY] as Data,
      slots.loudness,
    );

    // Onsets: how early (below 0) or late (above 0) each was, one series per colour bucket.
    const offsets = onsetOffsetsMs(a.onsets.times, beats);
    const limit = offsetLimit(offsets, beats);
    // Coloured by the true offset, drawn within the chart (a stray onset before the first beat would squash the rest).
    const edge = limit * 0.95;
    const onsetSeries: Array<Array<number | null>> = TIMING_BUCKETS.map((bucket) =>
      offsets.map((ms) => (ms !== null && bucket.test(ms) ? Math.max(-edge, Math.min(edge, ms)) : null)),
    );
    const onsets = new uPlot(
      {
        ...common(150, false),
        scales: { x: { time: false, min: 0, max: this.duration }, y: { range: [-limit, limit] } },
        axes: [xAxis(false), { ...AXIS, size: 56, values: (_u, splits) => splits.map((ms) => (ms > 0 ? `+${ms}` : String(ms))) }],
        series: [
          {},
          ...TIMING_BUCKETS.map((b) => ({ label: b.label, stroke: b.colour, fill: b.colour, paths: () => null, points: { show: true, size: 7, stroke: b.colour, fill: b.colour } })),
        ],
      },
      [a.onsets.times, ...onsetSeries] as Data,
      slots.onsets,
    );

    // Chords: a lane of boxes, major and minor in two colours.
    const chordX = a.chords.map((c) => c.start);
    const chordW = a.chords.map((c) => c.end - c.start);
    const isMinor = (name: string) => /m(?!aj)/.test(name.replace(/^[A-G][#♯b♭]?/, ''));
    const chords = new uPlot(
      {
        ...common(64, false),
        scales: { x: { time: false, min: 0, max: this.duration }, y: { range: [0, 1] } },
        axes: [xAxis(false), { ...AXIS, size: 56, values: () => [], grid: { show: false }, ticks: { show: false } }],
        series: [
          {},
          { label: 'major chords', stroke: '#b07d18', fill: 'rgba(230, 170, 50, 0.55)', paths: boxes(chordW, 0.4), points: { show: false } },
          { label: 'minor chords', stroke: '#2d6f8f', fill: 'rgba(60, 150, 190, 0.5)', paths: boxes(chordW, 0.4), points: { show: false } },
        ],
        plugins: [
          beatGrid(beats),
          {
            hooks: {
              draw: (u: Plot) => {
                // The chord names, where their box is wide enough to hold them.
                const ctx = u.ctx;
                ctx.save();
                ctx.fillStyle = '#1a1a1a';
                ctx.font = `${12 * devicePixelRatio}px system-ui, sans-serif`;
                ctx.textBaseline = 'middle';
                ctx.textAlign = 'left';
                const y = u.valToPos(0.5, 'y', true);
                a.chords.forEach((c) => {
                  // The part of its box inside the plot.
                  const x0 = Math.max(u.valToPos(c.start, 'x', true), u.bbox.left);
                  const x1 = Math.min(u.valToPos(c.end, 'x', true), u.bbox.left + u.bbox.width);
                  if (ctx.measureText(c.chord).width + 6 * devicePixelRatio > x1 - x0) return;
                  ctx.fillText(c.chord, x0 + 4 * devicePixelRatio, y);
                });
                ctx.restore();
              },
            },
          },
        ],
      },
      [chordX, a.chords.map((c) => (isMinor(c.chord) ? null : 0.5)), a.chords.map((c) => (isMinor(c.chord) ? 0.5 : null))] as Data,
      slots.chords,
    );

    // Notes: a piano roll, one row per semitone.
    const midis = a.notes.map((n) => n.midi);
    const low = midis.length > 0 ? Math.min(...midis) - 2 : 52;
    const high = midis.length > 0 ? Math.max(...midis) + 2 : 76;
    const notes = new uPlot(
      {
        ...common(Math.min(320, Math.max(160, (high - low) * 10)), true),
        scales: { x: { time: false, min: 0, max: this.duration }, y: { range: [low, high] } },
        axes: [
          xAxis(true),
          { ...AXIS, size: 56, incrs: [1, 2, 3, 4, 6, 12], values: (_u, splits) => splits.map((m) => (Number.isInteger(m) ? noteName(m) : '')) },
        ],
        series: [{}, { label: 'notes', stroke: '#6a2c70', fill: 'rgba(140, 60, 150, 0.75)', paths: boxes(a.notes.map((n) => n.duration), 0.42), points: { show: false } }],
      },
      [a.notes.map((n) => n.onset), midis] as Data,
      slots.notes,
    );

    this.plots = { loudness, onsets, chords, notes };
    // Opens on a stretch where notes can be told apart (about 30 px a second; the whole take when it fits).
    const opening = Math.max(8, width / 30);
    if (opening < this.duration) this.setView(0, opening);
    this.resize = new ResizeObserver(() => {
      const width = this.width();
      for (const p of Object.values(this.plots)) if (p.width !== width) p.setSize({ width, height: p.height });
    });
    this.resize.observe(container);
  }

  private width(): number {
    return Math.max(240, Math.floor(this.container.clientWidth));
  }

  /** One chart's x range changed (drag zoom, or setView): the others follow. */
  private follow(source: Plot): void {
    if (this.syncing) return;
    const min = source.scales.x?.min ?? 0;
    const max = source.scales.x?.max ?? this.duration;
    this.syncing = true;
    for (const p of Object.values(this.plots)) if (p !== source) p.setScale('x', { min, max });
    this.syncing = false;
    this.onViewChange({ min, max });
  }

  get view(): TimelineView {
    const x = this.plots.loudness.scales.x;
    return { min: x?.min ?? 0, max: x?.max ?? this.duration };
  }

  setView(min: number, max: number): void {
    const span = Math.min(Math.max(max - min, Math.min(1, this.duration)), this.duration);
    const start = Math.min(Math.max(min, 0), this.duration - span);
    this.plots.loudness.setScale('x', { min: start, max: start + span });
  }

  zoom(factor: number): void {
    const { min, max } = this.view;
    const centre = (min + max) / 2;
    const span = (max - min) * factor;
    this.setView(centre - span / 2, centre + span / 2);
  }

  /** Moves the view by a fraction of its width (±Infinity: to the start or the end). */
  scroll(fraction: number): void {
    const { min, max } = this.view;
    const span = max - min;
    const start = fraction === -Infinity ? 0 : fraction === Infinity ? this.duration - span : min + span * fraction;
    this.setView(start, start + span);
  }

  showAll(): void {
    this.setView(0, this.duration);
  }

  destroy(): void {
    this.resize.disconnect();
    for (const p of Object.values(this.plots)) p.destroy();
  }
}
