/**
 * The Content Security Policy of the app's pages, wherever they are served
 * from: the `ecosym serve` HTTP server sends it as a header with every static
 * file, and the Electron main process can send the same string for the window.
 * Nothing inline runs (scripts and styles come from the app's own files only);
 * the page may talk to its own origin only (HTTP and its WebSocket).
 */
export const CSP_DIRECTIVES: readonly string[] = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "media-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
];

/** The policy as one header value. */
export const CSP = CSP_DIRECTIVES.join('; ');
