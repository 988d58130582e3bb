/**
 * Bodies the engine reads as query parameters (pure). Go's `r.FormValue` (every option of
 * `POST /build`, `name` of a create...) parses a POST, PUT or PATCH body whose Content-Type is
 * `application/x-www-form-urlencoded` (or `multipart/form-data`) and puts its pairs BEFORE the
 * URL's: `networkmode=host` in such a body is the build's network, while the door judges the URL's
 * query. No Docker client sends a form; a request with a body and a form Content-Type is refused.
 *
 * Go reads the first Content-Type with mime.ParseMediaType: the part before `;`, trimmed, lowered
 * with Unicode case rules (`İ` is `i`, the Kelvin sign is `k`). The door checks every Content-Type
 * header, and one with a byte outside printable ASCII is refused too: it cannot be lowered as Go
 * lowers it.
 */

/** Does a request with these headers carry a body (a Content-Length other than 0, or a Transfer-Encoding)? */
function carriesBody(rawHeaders: readonly string[]): boolean {
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    if (name === 'transfer-encoding') return true;
    if (name === 'content-length' && (rawHeaders[i + 1] as string).trim() !== '0') return true;
  }
  return false;
}

/** Why the engine could read this request's body as a form (a refusal's reason), or undefined. */
export function formBodyProblem(rawHeaders: readonly string[]): string | undefined {
  if (!carriesBody(rawHeaders)) return undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] as string).toLowerCase() !== 'content-type') continue;
    const value = rawHeaders[i + 1] as string;
    if (!/^[\t\x20-\x7e]*$/.test(value)) return `a Content-Type with bytes outside printable ASCII (${JSON.stringify(value)})`;
    const type = value.toLowerCase();
    if (type.includes('x-www-form-urlencoded') || type.includes('multipart/')) {
      return `a body sent as a form (Content-Type ${JSON.stringify(value)}): the engine would read its fields as query parameters, which the door judges from the URL only`;
    }
  }
  return undefined;
}
