/**
 * The hardened daemon.json keys sdocker proposes (issue 11 part 2), each with the CIS Docker
 * Benchmark 1.6 check it answers, why, and what it costs. Every key is one dockerd 20.10 knows
 * (dockerd refuses to start on an unknown key). Pure data.
 */
export interface HardenedKey {
  key: string;
  value: unknown;
  /** CIS Docker Benchmark section 2 check number. */
  cis: string;
  /** The project's guideline (of the 17). */
  guideline: number;
  why: string;
  /** What it may break: said so the user can decide before installing. */
  cost?: string;
}

export const HARDENED_KEYS: readonly HardenedKey[] = [
  {
    key: 'icc', value: false, cis: '2.1', guideline: 15,
    why: 'containers on the default bridge cannot reach each other unless linked or on a user-defined network',
    cost: 'containers that talk to each other over the default bridge (without --link) stop reaching each other: put them on a user-defined network',
  },
  {
    key: 'log-level', value: 'info', cis: '2.2', guideline: 3,
    why: 'the daemon logs what it does (debug logs too much, warn and above too little to audit)',
  },
  {
    key: 'default-ulimits', value: { nofile: { Name: 'nofile', Soft: 8192, Hard: 8192 } }, cis: '2.7', guideline: 6,
    why: 'every container gets a bounded open-file limit unless it asks for one (sdocker\'s restricted level sets the same)',
    cost: 'must not exceed the daemon\'s own limit (LimitNOFILE of its service), or containers fail to start',
  },
  {
    key: 'userns-remap', value: 'default', cis: '2.8', guideline: 12,
    why: 'root in a container is an unprivileged user (dockremap\'s subordinate ids) on the host',
    cost: 'the daemon keeps remapped images and containers under a separate data root: existing ones are not seen until it is removed; --privileged, --pid=host and --network=host need --userns=host; bind-mounted files owned by host users appear as nobody',
  },
  {
    key: 'log-driver', value: 'json-file', cis: '2.12', guideline: 3,
    why: 'a logging driver that keeps what containers write (docker logs and sdocker logs export read it)',
  },
  {
    key: 'log-opts', value: { 'max-size': '10m', 'max-file': '3' }, cis: '2.12', guideline: 3,
    why: 'json-file logs are rotated: a container cannot fill the disk by writing',
  },
  {
    key: 'live-restore', value: true, cis: '2.14', guideline: 2,
    why: 'containers keep running while the daemon restarts or is upgraded',
    cost: 'not available in swarm mode',
  },
  {
    key: 'userland-proxy', value: false, cis: '2.15', guideline: 15,
    why: 'published ports are forwarded by iptables rules (NAT) instead of a docker-proxy process per port',
    cost: 'needs hairpin NAT on the bridge; on old kernels a container reaching its own published port through the host\'s address may fail',
  },
  {
    key: 'experimental', value: false, cis: '2.17', guideline: 2,
    why: 'experimental features are not for production',
  },
  {
    key: 'no-new-privileges', value: true, cis: '2.18', guideline: 7,
    why: 'processes in containers cannot gain privileges through setuid/setgid binaries or file capabilities',
    cost: 'sudo, su and ping (setuid) stop working inside containers that rely on them',
  },
];
