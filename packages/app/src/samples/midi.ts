/**
 * A minimal Standard MIDI File writer (format 0, one track): enough to describe a take (programs,
 * notes, pitch bend, tempo) for a software synthesizer such as FluidSynth to render with real
 * instrument samples. Times are in seconds; the file's tempo is fixed so ticks map to time exactly.
 */

export type MidiEvent =
  | { kind: 'note'; time: number; duration: number; channel: number; midi: number; velocity: number }
  | { kind: 'program'; time: number; channel: number; program: number }
  | { kind: 'bend'; time: number; channel: number; /** -1..1 of the bend range (±2 semitones by default) */ amount: number }
  | { kind: 'control'; time: number; channel: number; controller: number; value: number };

/** Ticks per quarter note; with the tempo fixed at 500 000 µs per quarter, one tick is ~1.04 ms. */
const DIVISION = 960;
const MICROS_PER_QUARTER = 500_000;
const TICKS_PER_SECOND = DIVISION / (MICROS_PER_QUARTER / 1e6);

function varLen(value: number): number[] {
  let v = Math.max(0, Math.round(value));
  const bytes = [v & 0x7f];
  v >>= 7;
  while (v > 0) {
    bytes.unshift((v & 0x7f) | 0x80);
    v >>= 7;
  }
  return bytes;
}

const clamp7 = (x: number): number => Math.max(0, Math.min(127, Math.round(x)));

/** The bytes of a format-0 MIDI file holding `events`. */
export function midiFile(events: readonly MidiEvent[]): Uint8Array {
  // Each event becomes one or two timed messages; note-offs sort before note-ons at the same tick.
  const messages: Array<{ tick: number; order: number; bytes: number[] }> = [];
  const tick = (seconds: number): number => Math.max(0, Math.round(seconds * TICKS_PER_SECOND));
  for (const e of events) {
    const ch = e.channel & 0x0f;
    if (e.kind === 'note') {
      messages.push({ tick: tick(e.time), order: 2, bytes: [0x90 | ch, clamp7(e.midi), Math.max(1, clamp7(e.velocity))] });
      messages.push({ tick: tick(e.time + e.duration), order: 0, bytes: [0x80 | ch, clamp7(e.midi), 0] });
    } else if (e.kind === 'program') {
      messages.push({ tick: tick(e.time), order: 1, bytes: [0xc0 | ch, clamp7(e.program)] });
    } else if (e.kind === 'control') {
      messages.push({ tick: tick(e.time), order: 1, bytes: [0xb0 | ch, clamp7(e.controller), clamp7(e.value)] });
    } else {
      const value = Math.max(0, Math.min(16383, Math.round(8192 + e.amount * 8192)));
      messages.push({ tick: tick(e.time), order: 1, bytes: [0xe0 | ch, value & 0x7f, value >> 7] });
    }
  }
  messages.sort((a, b) => a.tick - b.tick || a.order - b.order);
  const track: number[] = [0x00, 0xff, 0x51, 0x03, (MICROS_PER_QUARTER >> 16) & 0xff, (MICROS_PER_QUARTER >> 8) & 0xff, MICROS_PER_QUARTER & 0xff];
  let last = 0;
  for (const m of messages) {
    track.push(...varLen(m.tick - last), ...m.bytes);
    last = m.tick;
  }
  track.push(...varLen(Math.round(TICKS_PER_SECOND)), 0xff, 0x2f, 0x00); // end of track a second later
  const header = [0x4d, 0x54, 0x68, 0x64, 0, 0, 0, 6, 0, 0, 0, 1, (DIVISION >> 8) & 0xff, DIVISION & 0xff];
  const length = track.length;
  return Uint8Array.from([...header, 0x4d, 0x54, 0x72, 0x6b, (length >>> 24) & 0xff, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff, ...track]);
}
