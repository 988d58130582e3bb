/**
 * The brand of sdocker's errors (src/errors.ts): main.ts reads an error thrown in a separately
 * bundled command by it, since that bundle's classes are another copy and `instanceof` fails.
 * A second copy of the module (vi.resetModules) stands for the other bundle.
 */
import { describe, expect, it, vi } from 'vitest';
import { EngineError, PolicyError, SdockerError, UsageError, sdockerErrorOf } from '../../src/errors.js';
import { FileReadError } from '../../src/fs/read-bounded.js';

describe('sdockerErrorOf', () => {
  it('reads an error of another copy of the classes, where instanceof fails', async () => {
    vi.resetModules();
    const other = await import('../../src/errors.js');
    expect(other.SdockerError).not.toBe(SdockerError);
    const usage = new other.UsageError('--fail-on: bad');
    expect(usage instanceof SdockerError).toBe(false);
    expect(sdockerErrorOf(usage)).toEqual({ message: '--fail-on: bad', exitCode: 125, fromDaemon: false });
    expect(sdockerErrorOf(new other.EngineError('No such image: x', 404))).toEqual({ message: 'No such image: x', exitCode: 125, fromDaemon: true });
    expect(sdockerErrorOf(new other.SdockerError('not found', 127))).toEqual({ message: 'not found', exitCode: 127, fromDaemon: false });
  });

  it('reads every class of this copy, subclasses outside errors.ts included', () => {
    expect(sdockerErrorOf(new UsageError('u'))).toEqual({ message: 'u', exitCode: 125, fromDaemon: false });
    expect(sdockerErrorOf(new PolicyError('p'))).toEqual({ message: 'p', exitCode: 125, fromDaemon: false });
    expect(sdockerErrorOf(new EngineError('e', 500, 126))).toEqual({ message: 'e', exitCode: 126, fromDaemon: true });
    expect(sdockerErrorOf(new FileReadError('/x', 'ENOENT', 'no such file'))?.exitCode).toBe(125);
  });

  it('is undefined for anything else, look-alikes without the brand included', () => {
    for (const v of [new Error('x'), Object.assign(new Error('x'), { exitCode: 1 }), { message: 'm', exitCode: 125 }, 'text', 125, null, undefined]) {
      expect(sdockerErrorOf(v)).toBeUndefined();
    }
  });

  it('keeps the brand (a registry symbol, the same in every bundle) out of the enumerable keys', () => {
    const e = new EngineError('e', 404);
    const brand = Symbol.for('sdocker.error');
    expect(Object.getOwnPropertySymbols(e)).toEqual([brand]);
    expect(Object.prototype.propertyIsEnumerable.call(e, brand)).toBe(false);
    expect(JSON.parse(JSON.stringify(e))).toEqual({ name: 'EngineError', exitCode: 125, statusCode: 404 });
  });
});
