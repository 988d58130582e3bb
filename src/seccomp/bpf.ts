/**
 * A classic-BPF interpreter for seccomp filters, to compute what a compiled profile decides for
 * one system call without loading it into a kernel. Pure: no FFI, no I/O.
 */

export interface SeccompData {
  /** Syscall number as the arch numbers it (x32 calls carry 0x40000000). */
  nr: number;
  /** AUDIT_ARCH_* value, e.g. 0xc000003e for x86_64. */
  arch: number;
  ip?: bigint;
  /** Up to six arguments; missing ones are 0. */
  args?: (bigint | number)[];
}

export interface BpfInstruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** Decode the raw bytes seccomp_export_bpf writes (struct sock_filter, host byte order). */
export function decodeBpf(raw: Buffer): BpfInstruction[] {
  if (raw.length % 8 !== 0) throw new Error(`BPF program of ${raw.length} bytes is not a whole number of instructions`);
  const out: BpfInstruction[] = [];
  for (let off = 0; off < raw.length; off += 8) {
    out.push({ code: raw.readUInt16LE(off), jt: raw.readUInt8(off + 2), jf: raw.readUInt8(off + 3), k: raw.readUInt32LE(off + 4) });
  }
  return out;
}

/** struct seccomp_data as a little-endian buffer (every arch sdocker lists is little-endian). */
export function encodeSeccompData(d: SeccompData): Buffer {
  const b = Buffer.alloc(64);
  b.writeInt32LE(d.nr | 0, 0);
  b.writeUInt32LE(d.arch >>> 0, 4);
  b.writeBigUInt64LE(d.ip ?? 0n, 8);
  for (let i = 0; i < 6; i++) {
    const v = d.args?.[i] ?? 0n;
    b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v)), 16 + 8 * i);
  }
  return b;
}

const MAX_STEPS = 1 << 20;

/** Run the program over one seccomp_data; returns the 32-bit SECCOMP_RET_* value. */
export function runBpf(program: BpfInstruction[] | Buffer, data: SeccompData): number {
  const prog = Buffer.isBuffer(program) ? decodeBpf(program) : program;
  const pkt = encodeSeccompData(data);
  const mem = new Uint32Array(16);
  let A = 0;
  let X = 0;
  let pc = 0;
  for (let steps = 0; steps < MAX_STEPS; steps++) {
    const ins = prog[pc];
    if (!ins) throw new Error(`BPF: jumped out of the program (pc=${pc})`);
    const { code, jt, jf, k } = ins;
    pc++;
    const cls = code & 0x07;
    switch (cls) {
      case 0x00: // LD
      case 0x01: {
        // LDX
        const mode = code & 0xe0;
        const size = code & 0x18;
        let v: number;
        if (mode === 0x00) v = k;
        else if (mode === 0x20 || mode === 0x40) {
          const off = (mode === 0x40 ? X + k : k) >>> 0;
          if (size === 0x00) {
            if (off + 4 > 64 || off % 4 !== 0) throw new Error(`BPF: bad load offset ${off}`);
            v = pkt.readUInt32LE(off);
          } else if (size === 0x08) v = pkt.readUInt16LE(off);
          else v = pkt.readUInt8(off);
        } else if (mode === 0x60) v = mem[k & 15] ?? 0;
        else if (mode === 0x80) v = 64;
        else throw new Error(`BPF: unsupported load mode 0x${code.toString(16)}`);
        if (cls === 0x00) A = v >>> 0;
        else X = v >>> 0;
        break;
      }
      case 0x02: // ST
        mem[k & 15] = A;
        break;
      case 0x03: // STX
        mem[k & 15] = X;
        break;
      case 0x04: {
        // ALU
        const src = code & 0x08 ? X : k;
        switch (code & 0xf0) {
          case 0x00: A = (A + src) >>> 0; break;
          case 0x10: A = (A - src) >>> 0; break;
          case 0x20: A = Math.imul(A, src) >>> 0; break;
          case 0x30: if (src === 0) return 0; A = Math.floor(A / src) >>> 0; break;
          case 0x40: A = (A | src) >>> 0; break;
          case 0x50: A = (A & src) >>> 0; break;
          case 0x60: A = src >= 32 ? 0 : (A << src) >>> 0; break;
          case 0x70: A = src >= 32 ? 0 : A >>> src; break;
          case 0x80: A = -A >>> 0; break;
          case 0x90: if (src === 0) return 0; A = (A % src) >>> 0; break;
          case 0xa0: A = (A ^ src) >>> 0; break;
          default: throw new Error(`BPF: unsupported ALU op 0x${code.toString(16)}`);
        }
        break;
      }
      case 0x05: {
        // JMP
        const op = code & 0xf0;
        if (op === 0x00) {
          pc += k;
          break;
        }
        const src = (code & 0x08 ? X : k) >>> 0;
        let cond: boolean;
        if (op === 0x10) cond = A === src;
        else if (op === 0x20) cond = A > src;
        else if (op === 0x30) cond = A >= src;
        else if (op === 0x40) cond = (A & src) !== 0;
        else throw new Error(`BPF: unsupported jump 0x${code.toString(16)}`);
        pc += cond ? jt : jf;
        break;
      }
      case 0x06: {
        // RET
        const r = code & 0x18;
        return (r === 0x10 ? A : r === 0x08 ? X : k) >>> 0;
      }
      case 0x07:
        if ((code & 0xf8) === 0x00) X = A;
        else A = X;
        break;
    }
  }
  throw new Error('BPF: program did not return');
}
