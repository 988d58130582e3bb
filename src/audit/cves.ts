/**
 * Known container escapes and the versions they affect, upstream.
 * Conservative: a version in a range is reported; a distribution build (Debian's +ds/+dfsg, ~, -N) may carry a backported fix, so the message says which upstream version was compared.
 * vendorFixed lists distribution builds known to carry the fix (the package version docker reports in GET /version's component details).
 * Kernel ranges list only the stable branches whose fixed release is given in the source; other kernels below the mainline fix are reported.
 * Kept as TypeScript (not JSON) so the bundle and the type checker read it without a loader. Pure data.
 */
import type { CveEntry } from './versions.js';

export const CVES: readonly CveEntry[] = [
  {
    "id": "CVE-2019-5736",
    "component": "runc",
    "severity": "critical",
    "summary": "a container process overwrites the host's runc binary through /proc/self/exe and runs as root on the host",
    "affected": [
      {
        "below": "1.0.0-rc7"
      }
    ],
    "source": "https://nvd.nist.gov/vuln/detail/CVE-2019-5736"
  },
  {
    "id": "CVE-2021-30465",
    "component": "runc",
    "severity": "high",
    "summary": "a symlink-exchange race in mount destinations lets a container mount the host's filesystem",
    "affected": [
      {
        "below": "1.0.0-rc95"
      }
    ],
    "source": "https://github.com/opencontainers/runc/security/advisories/GHSA-c3xm-pvg7-gh7r"
  },
  {
    "id": "CVE-2024-21626",
    "component": "runc",
    "severity": "critical",
    "summary": "\"Leaky Vessels\": a leaked host file descriptor (WORKDIR /proc/self/fd/N) gives the container the host's filesystem",
    "affected": [
      {
        "from": "1.0.0-rc93",
        "below": "1.1.12"
      }
    ],
    "vendorFixed": [
      "1.1.5+ds1-1+deb12u1"
    ],
    "source": "https://github.com/opencontainers/runc/security/advisories/GHSA-xr7r-f8xq-vfvv",
    "vendorSource": "https://security-tracker.debian.org/tracker/CVE-2024-21626"
  },
  {
    "id": "CVE-2020-15257",
    "component": "containerd",
    "severity": "high",
    "summary": "containerd-shim's abstract unix socket is reachable from containers on the host network: root on the host",
    "affected": [
      {
        "below": "1.3.9"
      },
      {
        "from": "1.4.0",
        "below": "1.4.3"
      }
    ],
    "source": "https://github.com/containerd/containerd/security/advisories/GHSA-36xw-fx78-c5r4"
  },
  {
    "id": "CVE-2019-14271",
    "component": "engine",
    "severity": "critical",
    "summary": "docker cp loads libraries from the container (docker-tar runs in the container's root): code execution on the host",
    "affected": [
      {
        "from": "19.03.0",
        "below": "19.03.1"
      }
    ],
    "source": "https://nvd.nist.gov/vuln/detail/CVE-2019-14271"
  },
  {
    "id": "CVE-2016-5195",
    "component": "kernel",
    "severity": "critical",
    "summary": "\"Dirty COW\": a copy-on-write race writes to read-only memory mappings (vDSO escapes from containers)",
    "affected": [
      {
        "from": "2.6.22",
        "below": "4.4.26"
      },
      {
        "from": "4.5",
        "below": "4.7.9"
      },
      {
        "from": "4.8",
        "below": "4.8.3"
      }
    ],
    "source": "https://nvd.nist.gov/vuln/detail/CVE-2016-5195"
  },
  {
    "id": "CVE-2022-0847",
    "component": "kernel",
    "severity": "critical",
    "summary": "\"Dirty Pipe\": overwriting read-only files through pipes (the host's runc binary, read-only mounts)",
    "affected": [
      {
        "from": "5.8",
        "below": "5.10.102"
      },
      {
        "from": "5.11",
        "below": "5.15.25"
      },
      {
        "from": "5.16",
        "below": "5.16.11"
      }
    ],
    "source": "https://dirtypipe.cm4all.com/"
  },
  {
    "id": "CVE-2022-0185",
    "component": "kernel",
    "severity": "high",
    "summary": "heap overflow in legacy_parse_param (fsconfig): escape from a container that may create user namespaces",
    "affected": [
      {
        "from": "5.1",
        "below": "5.4.173"
      },
      {
        "from": "5.5",
        "below": "5.10.93"
      },
      {
        "from": "5.11",
        "below": "5.15.16"
      },
      {
        "from": "5.16",
        "below": "5.16.2"
      }
    ],
    "source": "https://nvd.nist.gov/vuln/detail/CVE-2022-0185"
  },
  {
    "id": "CVE-2022-0492",
    "component": "kernel",
    "severity": "high",
    "summary": "cgroup v1 release_agent written without a capability check: escape from containers without AppArmor/SELinux/seccomp",
    "affected": [
      {
        "from": "2.6.24",
        "below": "5.17"
      }
    ],
    "note": "mainline fix 5.17; stable branches got it earlier (check your distribution), so older kernels are reported conservatively",
    "source": "https://nvd.nist.gov/vuln/detail/CVE-2022-0492"
  }
];
