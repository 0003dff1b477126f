/** Named errors: each message says what happened and what was expected. */

/** A video source could not be opened or failed while reading. */
export class SourceError extends Error {
  override readonly name = 'SourceError';
  /**
   * @param sourceId Index of the failed source in the `videoReference` list (0 for a single source).
   * @param message What went wrong; the error's message is prefixed with `source <sourceId>: `.
   * @param options `cause`: the underlying error, if any.
   */
  constructor(
    readonly sourceId: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`source ${sourceId}: ${message}`, options);
  }
}

/** The model could not be fetched, parsed, or does not follow RF-DETR's input/output contract. */
export class ModelError extends Error {
  override readonly name = 'ModelError';
}

/** A call to an inference worker failed, timed out, or the worker died. */
export class WorkerError extends Error {
  override readonly name = 'WorkerError';
}

/** Several sources failed; `errors` lists each. */
export class PipelineSourcesError extends AggregateError {
  override readonly name = 'PipelineSourcesError';
  constructor(errors: SourceError[]) {
    super(errors, errors.map((e) => e.message).join('; '));
  }
}

/** Turns anything thrown into a readable message. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === 'string') return error;
  return String(error);
}
