/**
 * A RunRequest for a create body that did not come from argv (the Engine API door's
 * POST /containers/create). Pure. What the client sent is the body as it is; what the engine's
 * create does is `docker create`: no pull (a missing image is the engine's 404), no attach, no
 * start. Explanations name the body's fields (no flag was typed).
 */
import type { CreateBody } from '../api/types.js';
import { UsageError } from '../errors.js';
import type { RunRequest, SdockerOptions } from '../flags/request.js';

export interface BodyRequestOptions {
  /** ?name= of the create. */
  name?: string | undefined;
  /** ?platform= of the create. */
  platform?: string | undefined;
  /** sdocker's own options (level, profile, mode, output); the defaults when absent. */
  sdocker?: Partial<SdockerOptions>;
}

export function requestFromBody(body: CreateBody, opts: BodyRequestOptions = {}): RunRequest {
  if (typeof body !== 'object' || body === null || typeof body.Image !== 'string' || body.Image === '') {
    throw new UsageError('the create body names no image (Image)');
  }
  const copy = structuredClone(body);
  copy.HostConfig ??= {};
  const req: RunRequest = {
    mode: 'create',
    argv: [],
    help: false,
    image: copy.Image!,
    args: [...(copy.Cmd ?? [])],
    body: copy,
    pull: 'never',
    quiet: true,
    detach: true,
    sigProxy: false,
    sdocker: { dryRun: false, output: 'text', ...(opts.sdocker ?? {}) },
    typed: new Map(),
    notices: [],
  };
  if (opts.name) req.name = opts.name;
  if (opts.platform) req.platform = opts.platform;
  return req;
}
