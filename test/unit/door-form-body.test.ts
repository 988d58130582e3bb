import { describe, expect, it } from 'vitest';
import { formBodyProblem } from '../../src/door/form-body.js';

const withBody = (...h: string[]) => ['Host', 'docker', 'Content-Length', '12', ...h];

describe('formBodyProblem: bodies the engine would read as query parameters', () => {
  it.each([
    ['application/x-www-form-urlencoded'],
    ['Application/X-WWW-Form-URLEncoded; charset=utf-8'],
    ['  application/x-www-form-urlencoded  '],
    ['multipart/form-data; boundary=x'],
    ['MULTIPART/FORM-DATA'],
  ])('refuses %j with a body', (ct) => {
    expect(formBodyProblem(withBody('Content-Type', ct))).toMatch(/form/);
  });

  it('reads every Content-Type header, not only the first, and chunked bodies too', () => {
    expect(formBodyProblem(withBody('Content-Type', 'application/x-tar', 'content-type', 'application/x-www-form-urlencoded'))).toMatch(/form/);
    expect(formBodyProblem(['Transfer-Encoding', 'chunked', 'Content-Type', 'application/x-www-form-urlencoded'])).toMatch(/form/);
  });

  it('refuses a Content-Type Go would lower with Unicode rules (İ is i, the Kelvin sign is k)', () => {
    // "applİcation/x-www-form-urlencoded" as UTF-8 bytes, as node's parser hands them over (latin1)
    const dotted = Buffer.from('applİcation/x-www-form-urlencoded', 'utf8').toString('latin1');
    expect(formBodyProblem(withBody('Content-Type', dotted))).toMatch(/printable ASCII/);
  });

  it.each([['application/json'], ['application/x-tar'], ['application/tar'], ['text/plain'], ['']])('lets %j through', (ct) => {
    expect(formBodyProblem(withBody('Content-Type', ct))).toBeUndefined();
  });

  it('lets a form Content-Type through when there is no body (curl -d "" sends one)', () => {
    expect(formBodyProblem(['Content-Type', 'application/x-www-form-urlencoded'])).toBeUndefined();
    expect(formBodyProblem(['Content-Length', '0', 'Content-Type', 'application/x-www-form-urlencoded'])).toBeUndefined();
  });
});
