/** State kept per `video_identifier`, as the reference's stateful blocks do. */
export class PerVideo<T> {
  private readonly states = new Map<string, T>();

  constructor(private readonly create: () => T) {}

  /** The state of `videoIdentifier`, created on first use. */
  get(videoIdentifier: string): T {
    let state = this.states.get(videoIdentifier);
    if (state === undefined) {
      state = this.create();
      this.states.set(videoIdentifier, state);
    }
    return state;
  }
}
