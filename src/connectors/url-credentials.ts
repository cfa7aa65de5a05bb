/**
 * Drivers decode a connection URL's user and password themselves and throw "URI malformed" on a
 * bad escape such as a bare `%`; config schemas check this up front to name the problem instead.
 */
export function credentialsDecodeCleanly(url: URL): boolean {
  try {
    decodeURIComponent(url.username);
    decodeURIComponent(url.password);
    return true;
  } catch {
    return false;
  }
}
