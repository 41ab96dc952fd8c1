// The text of a thrown value, for log lines and error replies: catch clauses receive `unknown`.

/** `e.message` for an Error, else the value as text. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
