/**
 * What the Library and Author screens share: the library listing the session
 * sends (`library`), and the patch the Author screen should open next (set by
 * Library's Edit, read once by Author).
 */
export type { LibraryEntry, LibraryStream, TextError } from '../../shared/protocol.ts';

class AuthorRequest {
  /** The patch Author opens next (a path or a built-in id); undefined: the playing patch. */
  ref = $state<{ path: string } | { id: string } | undefined>(undefined);
}

export const authorRequest = new AuthorRequest();

/** The last part of a path, whatever its separators. */
export function baseName(p: string): string {
  return p.split(/[\\/]/).pop() ?? p;
}
