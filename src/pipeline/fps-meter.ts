/** Frames per second over a sliding window of recent events. */
export class FpsMeter {
  private readonly times: number[] = [];
  constructor(private readonly windowMs = 1000) {}

  /** Records an event at `now` (ms) and returns the current rate. */
  tick(now = performance.now()): number {
    this.times.push(now);
    while (this.times.length > 1 && now - this.times[0]! > this.windowMs) this.times.shift();
    return this.rate();
  }

  rate(): number {
    if (this.times.length < 2) return 0;
    const span = this.times[this.times.length - 1]! - this.times[0]!;
    return span > 0 ? ((this.times.length - 1) * 1000) / span : 0;
  }
}
