/**
 * The id of one ordered call for exactly-once application (see call-dedup.ts): who calls and
 * which of its calls this is.
 */
/** Identifies one ordered call of one client, for exactly-once application. */
export interface CallId {
  /** Who calls: a stable id for one client (at most 64 UTF-8 bytes), unique across clients. */
  readonly client: string;
  /** This call's sequence number at the client: a positive integer, new for each new call (a retry repeats it). */
  readonly seq: number;
  /** The client holds the replies of all its calls with sequences up to this one (0: none); below `seq`. */
  readonly ackedThrough?: number;
}

export const MAX_CLIENT_ID_BYTES = 64;
