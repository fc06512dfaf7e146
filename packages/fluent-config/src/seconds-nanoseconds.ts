/**
 * A duration written as Fluent Bit's flb_utils_time_split reads it (tail's refresh_interval):
 * whole seconds, and where there is a fraction, nine digits of nanoseconds after the point.
 * `0.5` would be read as 0 s and 5 ns; 0.5 s is written `0.500000000`.
 */
export function secondsNanoseconds(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError(`a duration must be a finite number of seconds ≥ 0, got ${seconds}`);
  const whole = Math.floor(seconds);
  const nanoseconds = Math.round((seconds - whole) * 1e9);
  if (nanoseconds === 0) return String(whole);
  if (nanoseconds === 1e9) return String(whole + 1);
  return `${whole}.${String(nanoseconds).padStart(9, '0')}`;
}
