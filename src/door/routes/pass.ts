/**
 * The door's allowlist of endpoints that pass untouched (Engine API 1.41): each one reads state,
 * streams a container already judged at its create, stops or removes something, or moves image
 * data. None of them can give a container or a process more than the policy gave it. A path not
 * here and not judged (judged.ts) is refused by the door. Image and plugin names may hold `/`
 * (`/images/library/busybox:1/json`: the docker CLI does not escape them), hence `.+` for names.
 */
import type { Route } from '../types.js';

const ID = '[^/]+';
const NAME = '.+';

function pass(method: string, path: string, name: string): Route {
  return {
    method,
    pattern: new RegExp(`^${path.replace(/\{id\}/g, `(${ID})`).replace(/\{name\}/g, `(${NAME})`)}$`),
    name,
    body: 'stream',
    judge: () => Promise.resolve({ action: 'pass' }),
  };
}

export const PASS_ROUTES: readonly Route[] = [
  // the engine
  pass('GET', '/_ping', 'system.ping'),
  pass('GET', '/version', 'system.version'),
  pass('GET', '/info', 'system.info'),
  pass('GET', '/events', 'system.events'),
  pass('GET', '/system/df', 'system.df'),
  pass('POST', '/auth', 'system.auth'),
  // containers: reads, logs, lifecycle (exec, attach, cp, export, start, rename are judged: routes/owned.ts)
  pass('GET', '/containers/json', 'container.list'),
  pass('GET', '/containers/{id}/json', 'container.inspect'),
  pass('GET', '/containers/{id}/top', 'container.top'),
  pass('GET', '/containers/{id}/logs', 'container.logs'),
  pass('GET', '/containers/{id}/changes', 'container.changes'),
  pass('GET', '/containers/{id}/stats', 'container.stats'),
  pass('POST', '/containers/{id}/wait', 'container.wait'),
  pass('POST', '/containers/{id}/resize', 'container.resize'),
  pass('POST', '/containers/{id}/kill', 'container.kill'),
  pass('POST', '/containers/{id}/stop', 'container.stop'),
  pass('POST', '/containers/{id}/pause', 'container.pause'),
  pass('POST', '/containers/{id}/unpause', 'container.unpause'),
  pass('DELETE', '/containers/{id}', 'container.delete'),
  pass('POST', '/containers/prune', 'container.prune'),
  // exec instances: made by the judged exec create (start is judged: judged.ts)
  pass('POST', '/exec/{id}/resize', 'exec.resize'),
  pass('GET', '/exec/{id}/json', 'exec.inspect'),
  // images: the policy judges an image when a container is created from it (commit and create: judged)
  pass('GET', '/images/json', 'image.list'),
  pass('GET', '/images/search', 'image.search'),
  pass('GET', '/images/get', 'image.get'),
  pass('POST', '/images/load', 'image.load'),
  pass('POST', '/images/prune', 'image.prune'),
  pass('GET', '/images/{name}/json', 'image.inspect'),
  pass('GET', '/images/{name}/history', 'image.history'),
  pass('GET', '/images/{name}/get', 'image.get.one'),
  pass('POST', '/images/{name}/tag', 'image.tag'),
  pass('POST', '/images/{name}/push', 'image.push'),
  pass('DELETE', '/images/{name}', 'image.delete'),
  pass('GET', '/distribution/{name}/json', 'distribution.inspect'),
  // builds: the classic build is judged (judged.ts); these only read or clean the cache
  pass('POST', '/build/prune', 'build.prune'),
  pass('POST', '/build/cancel', 'build.cancel'),
  // networks: reads and removal (create, connect and disconnect are judged: routes/owners.ts)
  pass('GET', '/networks', 'network.list'),
  pass('GET', '/networks/{id}', 'network.inspect'),
  pass('POST', '/networks/prune', 'network.prune'),
  pass('DELETE', '/networks/{id}', 'network.delete'),
  // volumes: reads and removal (create is judged)
  pass('GET', '/volumes', 'volume.list'),
  pass('GET', '/volumes/{name}', 'volume.inspect'),
  pass('DELETE', '/volumes/{name}', 'volume.delete'),
  pass('POST', '/volumes/prune', 'volume.prune'),
  // plugins: reads, disable and removal (install, enable, upgrade, set are judged)
  pass('GET', '/plugins', 'plugin.list'),
  pass('GET', '/plugins/privileges', 'plugin.privileges'),
  pass('GET', '/plugins/{name}/json', 'plugin.inspect'),
  pass('POST', '/plugins/{name}/disable', 'plugin.disable'),
  pass('DELETE', '/plugins/{name}', 'plugin.delete'),
  // swarm: reads and removals (init, join, services are judged)
  pass('GET', '/swarm', 'swarm.inspect'),
  pass('GET', '/swarm/unlockkey', 'swarm.unlockkey'),
  pass('POST', '/swarm/leave', 'swarm.leave'),
  pass('GET', '/nodes', 'node.list'),
  pass('GET', '/nodes/{id}', 'node.inspect'),
  pass('GET', '/services', 'service.list'),
  pass('GET', '/services/{id}', 'service.inspect'),
  pass('GET', '/services/{id}/logs', 'service.logs'),
  pass('DELETE', '/services/{id}', 'service.delete'),
  pass('GET', '/tasks', 'task.list'),
  pass('GET', '/tasks/{id}', 'task.inspect'),
  pass('GET', '/tasks/{id}/logs', 'task.logs'),
  pass('GET', '/secrets', 'secret.list'),
  pass('GET', '/secrets/{id}', 'secret.inspect'),
  pass('DELETE', '/secrets/{id}', 'secret.delete'),
  pass('GET', '/configs', 'config.list'),
  pass('GET', '/configs/{id}', 'config.inspect'),
  pass('DELETE', '/configs/{id}', 'config.delete'),
];
