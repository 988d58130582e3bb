/**
 * The built-in levels, compiled from profiles/levels/*.yaml so the hot path never loads the YAML
 * parser (about 50 ms here). test/policy/levels.test.ts checks the two stay equal.
 */
import type { LevelName, ProfileFile } from './types.js';

export const LEVEL_FILES: Record<LevelName, ProfileFile> = {
  restricted: {
    "path": "level:restricted",
    "level": "restricted",
    "defaults": {
      "user": "65534:65534",
      "tmpfs": [
        {
          "path": "/tmp",
          "size": "64m"
        }
      ],
      "memory": "1g",
      "cpus": 2,
      "pids": 512,
      "log": {
        "maxSize": "10m",
        "maxFile": 3
      },
      "seccomp": "default",
      "portAddress": "127.0.0.1",
      "ulimits": [
        "nofile=8192:8192"
      ]
    },
    "limits": {
      "memory": "16g",
      "cpus": 8,
      "pids": 4096,
      "logMaxSize": "100m",
      "logMaxFile": 10,
      "logDrivers": [
        "json-file",
        "local",
        "journald"
      ]
    },
    "allow": {
      "capabilities": [
        {
          "name": "NET_BIND_SERVICE",
          "reason": "binding ports below 1024 is harmless (Kubernetes restricted allows it)"
        }
      ],
      "sysctls": [
        {
          "name": "kernel.shm_rmid_forced",
          "reason": "namespaced and safe (Kubernetes safe set)"
        },
        {
          "name": "net.ipv4.ip_local_port_range",
          "reason": "namespaced and safe (Kubernetes safe set)"
        },
        {
          "name": "net.ipv4.ip_unprivileged_port_start",
          "reason": "namespaced and safe (Kubernetes safe set)"
        },
        {
          "name": "net.ipv4.tcp_syncookies",
          "reason": "namespaced and safe (Kubernetes safe set)"
        },
        {
          "name": "net.ipv4.ping_group_range",
          "reason": "namespaced and safe (Kubernetes safe set)"
        },
        {
          "name": "net.ipv4.ip_local_reserved_ports",
          "reason": "namespaced and safe (Kubernetes safe set)"
        },
        {
          "name": "net.ipv4.tcp_keepalive_time",
          "reason": "namespaced and safe (Kubernetes safe set)"
        },
        {
          "name": "net.ipv4.tcp_fin_timeout",
          "reason": "namespaced and safe (Kubernetes safe set)"
        },
        {
          "name": "net.ipv4.tcp_keepalive_intvl",
          "reason": "namespaced and safe (Kubernetes safe set)"
        },
        {
          "name": "net.ipv4.tcp_keepalive_probes",
          "reason": "namespaced and safe (Kubernetes safe set)"
        }
      ]
    }
  },
  baseline: {
    "path": "level:baseline",
    "extends": "restricted",
    "level": "baseline",
    "defaults": {
      "memory": "4g",
      "cpus": 4,
      "pids": 4096
    },
    "limits": {
      "memory": "64g",
      "cpus": 64,
      "pids": 32768,
      "logMaxSize": "1g",
      "logMaxFile": 20,
      "logDrivers": [
        "json-file",
        "local",
        "journald",
        "syslog",
        "fluentd",
        "gelf",
        "awslogs",
        "gcplogs",
        "splunk",
        "logentries"
      ]
    },
    "allow": {
      "root": {
        "reason": "baseline allows root, like docker",
        "withoutUsernsRemap": true
      },
      "defaultCapabilities": {
        "reason": "baseline keeps docker's default capability set"
      },
      "capabilities": [
        {
          "name": "AUDIT_WRITE",
          "reason": "in docker's default set"
        },
        {
          "name": "CHOWN",
          "reason": "in docker's default set"
        },
        {
          "name": "DAC_OVERRIDE",
          "reason": "in docker's default set"
        },
        {
          "name": "FOWNER",
          "reason": "in docker's default set"
        },
        {
          "name": "FSETID",
          "reason": "in docker's default set"
        },
        {
          "name": "KILL",
          "reason": "in docker's default set"
        },
        {
          "name": "MKNOD",
          "reason": "in docker's default set"
        },
        {
          "name": "NET_BIND_SERVICE",
          "reason": "in docker's default set"
        },
        {
          "name": "NET_RAW",
          "reason": "in docker's default set"
        },
        {
          "name": "SETFCAP",
          "reason": "in docker's default set"
        },
        {
          "name": "SETGID",
          "reason": "in docker's default set"
        },
        {
          "name": "SETPCAP",
          "reason": "in docker's default set"
        },
        {
          "name": "SETUID",
          "reason": "in docker's default set"
        },
        {
          "name": "SYS_CHROOT",
          "reason": "in docker's default set"
        }
      ],
      "writableRootfs": {
        "reason": "baseline keeps the root filesystem writable, like docker"
      },
      "writableBinds": {
        "reason": "baseline keeps binds as typed (still nosuid,nodev)"
      },
      "unboundedRestart": {
        "reason": "baseline keeps the restart policy as typed, like docker"
      },
      "portAddresses": [
        {
          "address": "0.0.0.0",
          "reason": "baseline publishes ports like docker"
        },
        {
          "address": "::",
          "reason": "baseline publishes ports like docker"
        }
      ],
      "sysctls": [
        {
          "name": "kernel.msgmax",
          "reason": "IPC-namespaced (docker's namespaced set)"
        },
        {
          "name": "kernel.msgmnb",
          "reason": "IPC-namespaced (docker's namespaced set)"
        },
        {
          "name": "kernel.msgmni",
          "reason": "IPC-namespaced (docker's namespaced set)"
        },
        {
          "name": "kernel.sem",
          "reason": "IPC-namespaced (docker's namespaced set)"
        },
        {
          "name": "kernel.shmall",
          "reason": "IPC-namespaced (docker's namespaced set)"
        },
        {
          "name": "kernel.shmmax",
          "reason": "IPC-namespaced (docker's namespaced set)"
        },
        {
          "name": "kernel.shmmni",
          "reason": "IPC-namespaced (docker's namespaced set)"
        },
        {
          "name": "fs.mqueue.*",
          "reason": "IPC-namespaced (docker's namespaced set)"
        },
        {
          "name": "net.*",
          "reason": "network-namespaced (docker's namespaced set; never with the host network)"
        }
      ]
    }
  },
  privileged: {
    "path": "level:privileged",
    "level": "privileged"
  },
};
