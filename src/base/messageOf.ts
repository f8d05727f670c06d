/** The first line of an error's message: what a user-facing message quotes from a library's error. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}
