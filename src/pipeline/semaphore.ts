/** A counting semaphore whose waiters are served in FIFO order and rejected on close. */
export class Semaphore {
  private readonly waiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  private closedWith?: Error;

  constructor(private available: number) {}

  acquire(): Promise<void> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    if (this.available > 0) {
      this.available -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  release(): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve();
    else this.available += 1;
  }

  close(error: Error): void {
    this.closedWith ??= error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }
}
