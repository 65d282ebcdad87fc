/**
 * What the Library and Author screens share: the library listing the session
 * sends (`library`), and the patch the Author screen should open next (set by
 * Library's Edit, read once by Author).
 */
export interface LibraryStream {
  name: string;
  description?: string;
  unit?: string;
  source?: string;
  file?: { path: string; exists: boolean; bytes?: number };
}

export interface LibraryEntry {
  key: string;
  builtin: boolean;
  ref: { id: string } | { path: string };
  path: string;
  name: string;
  description?: string;
  streams: LibraryStream[];
  error?: string;
}

/** A problem of a patch's text at its line and column (the session's `validate`). */
export interface TextError {
  line?: number;
  column?: number;
  path: string;
  message: string;
}

class AuthorRequest {
  /** The patch Author opens next (a path or a built-in id); undefined: the playing patch. */
  ref = $state<{ path: string } | { id: string } | undefined>(undefined);
}

export const authorRequest = new AuthorRequest();

/** The last part of a path, whatever its separators. */
export function baseName(p: string): string {
  return p.split(/[\\/]/).pop() ?? p;
}
