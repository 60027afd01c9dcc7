/**
 * The error taxonomy, in one place: which failures are deterministic (the same input fails the same way on
 * every attempt, so retrying only hides the cause) and how many attempts each kind of work gets. The
 * workflow's retry policies and the activities' error conversion both read it; neither keeps a copy.
 * Plain data with no imports, so the deterministic workflow bundle can include it.
 */

/** Error types (Error.name, or the ApplicationFailure type) that end the search with a clear failure. */
export const NON_RETRYABLE_ERROR_TYPES: readonly string[] = [
  // Configuration and input: the user must change something.
  'ConfigError',
  'DatasetError',
  'NoiseSettingsError',
  'HardwareLibraryError',
  'InvalidRobustnessRequestError',
  'InvalidBackendChoiceError',
  'ReportInputError',
  'RunConflictError',
  'UnsafePathError',
  // A broken evaluator command (not found, wrong protocol): every attempt would start the same command.
  'ExternalEvaluatorSetupError',
  // An artifact that cannot be read back (hash mismatch) where no older copy exists to fall back on.
  'CheckpointCorruptError',
  // The filesystem refuses (permission, read-only): no retry changes the permission.
  'FilesystemPermissionError',
  // Programming errors: a bug, deterministic by nature.
  'TypeError',
  'RangeError',
  'ReferenceError',
  'SyntaxError',
  'PathMismatchError',
  'UncalibratedPathError',
  'AnalogChipError',
];

/** errno codes of a filesystem that refuses an operation for good (as opposed to ENOSPC, EIO, EBUSY). */
export const PERMISSION_ERROR_CODES: readonly string[] = ['EACCES', 'EPERM', 'EROFS'];

/**
 * Attempts per kind of work before the search fails (transient faults: a killed worker or child, a lost
 * server, a full disk being freed). With backoff up to a minute these cover about half an hour of
 * repeated failure; a worker that is simply absent does not use attempts (the task waits in its queue).
 */
export const MAXIMUM_ATTEMPTS = {
  /** Light JSON work (propose, tell, results): a failure here repeats quickly. */
  orchestration: 10,
  /** A training chunk: each attempt resumes from its newest checkpoint, so attempts are cheap. */
  training: 20,
  /** One candidate chunk, one robustness or final evaluation. */
  evaluation: 5,
} as const;

export function isNonRetryableType(type: string): boolean {
  return NON_RETRYABLE_ERROR_TYPES.includes(type);
}
