// The backends' error catalogue: every failure a backend or a client helper reports, by
// stable code, so tests and the examples assert on codes rather than on message text.

/** Every error code of the demo backends, with a one-line meaning. */
export const backendErrorCatalogue = {
  BACKEND_TOOL_MISSING: 'A DCMTK command (storescp, storescu, echoscu, dump2dcm) is not installed',
  BACKEND_LISTEN_FAILED: 'A backend could not listen on its address and port',
  BACKEND_DICOM_ECHO_FAILED: 'echoscu did not get a successful C-ECHO response',
  BACKEND_DICOM_STORE_FAILED: 'storescu did not store every file of the study',
  BACKEND_STUDY_GENERATION_FAILED: 'dump2dcm could not write a slice of the generated study',
  BACKEND_STUDY_MISMATCH: 'A received study is incomplete or not byte-identical to what was sent',
  BACKEND_NOT_DICOM: 'A file is not a DICOM Part 10 file',
  BACKEND_MLLP_FRAME_TOO_LARGE: 'An MLLP frame exceeded the size limit',
  BACKEND_HL7_INVALID: 'An HL7 v2 message has no readable MSH segment',
  BACKEND_HL7_NO_ACK: 'No acknowledgement arrived for an HL7 message',
  BACKEND_HL7_NACK: 'An HL7 acknowledgement was not AA or did not match the message control id',
  BACKEND_CONNECTION_CLOSED: 'The peer closed the connection before answering',
  BACKEND_TIMEOUT: 'A backend operation did not finish in time',
  BACKEND_UNKNOWN_PROFILE: 'No profile has that name',
  BACKEND_PLAN_CONFLICT: 'Two services of a profile claim one address and port with different kinds',
  BACKEND_NO_SUCH_SERVICE: 'No service of the running backends matches',
} as const;

/** A stable backend error code. */
export type BackendErrorCode = keyof typeof backendErrorCatalogue;

/** A typed error of the demo backends: a stable code, a detail and optional facts. */
export class BackendError extends Error {
  /** The stable code from the catalogue. */
  readonly code: BackendErrorCode;
  /** Facts that explain the failure (exit codes, tool output, the mismatches found). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: BackendErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options);
    this.name = 'BackendError';
    this.code = code;
    this.details = details;
  }
}
