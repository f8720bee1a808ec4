import { DaftInputError } from "../errors.js";

/**
 * For tests: the DaftInputError that `action` throws. Any other outcome fails the test: throwing nothing
 * ("expected a DaftInputError") or throwing another kind of error (re-thrown as it is).
 */
export function thrownInputError(action: () => unknown): DaftInputError {
  try {
    action();
  } catch (error) {
    if (error instanceof DaftInputError) return error;
    throw error;
  }
  throw new Error("expected a DaftInputError, but nothing was thrown");
}

/** For tests: the one line (`<file>: <problem>`) of the DaftInputError that `action` throws. */
export function inputErrorLine(action: () => unknown): string {
  return thrownInputError(action).oneLine();
}
