// AEGIS-128L used as a 128-bit MAC with a zero key and nonce (spec/wire.md §7): the input is the
// associated data, the message is empty. This is the pure-TypeScript implementation; the native
// addon (checksum_native.ts) has an AES-NI path that must produce identical tags.
//
// Speed: the state is 32 u32 locals and each AES round is four T-table lookups per column
// (SubBytes + ShiftRows + MixColumns combined), with the update unrolled (generated once by hand
// from the spec's formula S'i = AESRound(S(i-1), Si), M0 into S'0, M1 into S'4).

const sbox = new Uint8Array(256);
const T0 = new Uint32Array(256);
const T1 = new Uint32Array(256);
const T2 = new Uint32Array(256);
const T3 = new Uint32Array(256);

function gfMul2(x: number): number {
  return ((x << 1) ^ (x & 0x80 ? 0x1b : 0)) & 0xff;
}

function buildTables(): void {
  // S-box: multiplicative inverse in GF(2^8) mod 0x11B (0 -> 0), then the affine map with 0x63.
  const log = new Uint8Array(256);
  const exp = new Uint8Array(256);
  let x = 1;
  for (let i = 0; i < 255; i++) {
    exp[i] = x;
    log[x] = i;
    x ^= gfMul2(x); // multiply by the generator 3
  }
  for (let i = 0; i < 256; i++) {
    const inverse = i === 0 ? 0 : exp[(255 - log[i]!) % 255]!;
    let s = inverse;
    let r = inverse;
    for (let k = 0; k < 4; k++) {
      r = ((r << 1) | (r >>> 7)) & 0xff;
      s ^= r;
    }
    sbox[i] = s ^ 0x63;
  }
  for (let i = 0; i < 256; i++) {
    const s = sbox[i]!;
    const s2 = gfMul2(s);
    const s3 = s2 ^ s;
    // Input row 0 contributes (2s, s, s, 3s) to output rows 0..3 (little-endian word).
    const t = (s2 | (s << 8) | (s << 16) | (s3 << 24)) >>> 0;
    T0[i] = t;
    T1[i] = ((t << 8) | (t >>> 24)) >>> 0;
    T2[i] = ((t << 16) | (t >>> 16)) >>> 0;
    T3[i] = ((t << 24) | (t >>> 8)) >>> 0;
  }
}
buildTables();

/** One AES encryption round (x86 AESENC), on 4 little-endian words: for tests and references. */
export function aesRound(x: Uint32Array, key: Uint32Array, out: Uint32Array): void {
  for (let c = 0; c < 4; c++) {
    out[c] = (T0[x[c]! & 255]! ^ T1[(x[(c + 1) & 3]! >>> 8) & 255]! ^
      T2[(x[(c + 2) & 3]! >>> 16) & 255]! ^ T3[x[(c + 3) & 3]! >>> 24]! ^ key[c]!) >>> 0;
  }
}

export function aesSbox(byte: number): number {
  return sbox[byte]!;
}

// The state after initialisation with K = N = 0 (a constant, spec/wire.md §7.4), as LE words.
const initHex = [
  "72f2f45d9ec742023e84aa66aefd3592", "42071dcd301af7cf8a7c6c4a20f63065",
  "f84ea4a1c6aa99cea51d8b5c9cc3058f", "0fc05e1117af1075a41119f329c5a8d2",
  "57888c33d3160355364035c8f21e7986", "48fa4b5dd57042c4084fe9f51508b644",
  "0b9989cc910503850305de7ef1a98bfe", "b30e7521390ccf8ecfe94af687955dd7",
];
export const aegisInitState = new Uint32Array(32);
for (let b = 0; b < 8; b++) {
  for (let w = 0; w < 4; w++) {
    const hex = initHex[b]!.slice(w * 8, w * 8 + 8);
    const bytes = hex.match(/../g)!.map((h) => parseInt(h, 16));
    aegisInitState[b * 4 + w] = (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0;
  }
}

const tailScratch = new Uint8Array(32);
const tailView = new DataView(tailScratch.buffer);

/** Writes the 16-byte AEGIS-128L MAC of `data` into `out[outOffset .. outOffset+16)`. */
export function aegisMacTs(data: Uint8Array, out: Uint8Array, outOffset: number): void {
  const I = aegisInitState;
  let s0_0 = I[0]!, s0_1 = I[1]!, s0_2 = I[2]!, s0_3 = I[3]!;
  let s1_0 = I[4]!, s1_1 = I[5]!, s1_2 = I[6]!, s1_3 = I[7]!;
  let s2_0 = I[8]!, s2_1 = I[9]!, s2_2 = I[10]!, s2_3 = I[11]!;
  let s3_0 = I[12]!, s3_1 = I[13]!, s3_2 = I[14]!, s3_3 = I[15]!;
  let s4_0 = I[16]!, s4_1 = I[17]!, s4_2 = I[18]!, s4_3 = I[19]!;
  let s5_0 = I[20]!, s5_1 = I[21]!, s5_2 = I[22]!, s5_3 = I[23]!;
  let s6_0 = I[24]!, s6_1 = I[25]!, s6_2 = I[26]!, s6_3 = I[27]!;
  let s7_0 = I[28]!, s7_1 = I[29]!, s7_2 = I[30]!, s7_3 = I[31]!;

  const length = data.length;
  const view = new DataView(data.buffer, data.byteOffset, length);
  const blocksFull = length >>> 5;
  const tailLength = length & 31;
  const blocksAbsorbed = blocksFull + (tailLength > 0 ? 1 : 0);
  if (tailLength > 0) {
    tailScratch.fill(0);
    tailScratch.set(data.subarray(blocksFull * 32), 0);
  }
  // Finalisation message words: T = S2 ^ L, with L = LE64(bits) || LE64(0).
  const bits = length * 8;
  const bitsLo = bits >>> 0;
  const bitsHi = Math.floor(bits / 0x1_0000_0000) >>> 0;
  let f0 = 0, f1 = 0, f2 = 0, f3 = 0;

  const updates = blocksAbsorbed + 7;
  for (let u = 0; u < updates; u++) {
    let m0, m1, m2, m3, m4, m5, m6, m7;
    if (u < blocksFull) {
      const o = u * 32;
      m0 = view.getUint32(o, true); m1 = view.getUint32(o + 4, true);
      m2 = view.getUint32(o + 8, true); m3 = view.getUint32(o + 12, true);
      m4 = view.getUint32(o + 16, true); m5 = view.getUint32(o + 20, true);
      m6 = view.getUint32(o + 24, true); m7 = view.getUint32(o + 28, true);
    } else if (u < blocksAbsorbed) {
      m0 = tailView.getUint32(0, true); m1 = tailView.getUint32(4, true);
      m2 = tailView.getUint32(8, true); m3 = tailView.getUint32(12, true);
      m4 = tailView.getUint32(16, true); m5 = tailView.getUint32(20, true);
      m6 = tailView.getUint32(24, true); m7 = tailView.getUint32(28, true);
    } else {
      if (u === blocksAbsorbed) {
        f0 = s2_0 ^ bitsLo; f1 = s2_1 ^ bitsHi; f2 = s2_2; f3 = s2_3;
      }
      m0 = f0; m1 = f1; m2 = f2; m3 = f3;
      m4 = f0; m5 = f1; m6 = f2; m7 = f3;
    }
      const n0_0 = T0[s7_0 & 255] ^ T1[(s7_1 >>> 8) & 255] ^ T2[(s7_2 >>> 16) & 255] ^ T3[s7_3 >>> 24] ^ s0_0 ^ m0;
      const n0_1 = T0[s7_1 & 255] ^ T1[(s7_2 >>> 8) & 255] ^ T2[(s7_3 >>> 16) & 255] ^ T3[s7_0 >>> 24] ^ s0_1 ^ m1;
      const n0_2 = T0[s7_2 & 255] ^ T1[(s7_3 >>> 8) & 255] ^ T2[(s7_0 >>> 16) & 255] ^ T3[s7_1 >>> 24] ^ s0_2 ^ m2;
      const n0_3 = T0[s7_3 & 255] ^ T1[(s7_0 >>> 8) & 255] ^ T2[(s7_1 >>> 16) & 255] ^ T3[s7_2 >>> 24] ^ s0_3 ^ m3;
      const n1_0 = T0[s0_0 & 255] ^ T1[(s0_1 >>> 8) & 255] ^ T2[(s0_2 >>> 16) & 255] ^ T3[s0_3 >>> 24] ^ s1_0;
      const n1_1 = T0[s0_1 & 255] ^ T1[(s0_2 >>> 8) & 255] ^ T2[(s0_3 >>> 16) & 255] ^ T3[s0_0 >>> 24] ^ s1_1;
      const n1_2 = T0[s0_2 & 255] ^ T1[(s0_3 >>> 8) & 255] ^ T2[(s0_0 >>> 16) & 255] ^ T3[s0_1 >>> 24] ^ s1_2;
      const n1_3 = T0[s0_3 & 255] ^ T1[(s0_0 >>> 8) & 255] ^ T2[(s0_1 >>> 16) & 255] ^ T3[s0_2 >>> 24] ^ s1_3;
      const n2_0 = T0[s1_0 & 255] ^ T1[(s1_1 >>> 8) & 255] ^ T2[(s1_2 >>> 16) & 255] ^ T3[s1_3 >>> 24] ^ s2_0;
      const n2_1 = T0[s1_1 & 255] ^ T1[(s1_2 >>> 8) & 255] ^ T2[(s1_3 >>> 16) & 255] ^ T3[s1_0 >>> 24] ^ s2_1;
      const n2_2 = T0[s1_2 & 255] ^ T1[(s1_3 >>> 8) & 255] ^ T2[(s1_0 >>> 16) & 255] ^ T3[s1_1 >>> 24] ^ s2_2;
      const n2_3 = T0[s1_3 & 255] ^ T1[(s1_0 >>> 8) & 255] ^ T2[(s1_1 >>> 16) & 255] ^ T3[s1_2 >>> 24] ^ s2_3;
      const n3_0 = T0[s2_0 & 255] ^ T1[(s2_1 >>> 8) & 255] ^ T2[(s2_2 >>> 16) & 255] ^ T3[s2_3 >>> 24] ^ s3_0;
      const n3_1 = T0[s2_1 & 255] ^ T1[(s2_2 >>> 8) & 255] ^ T2[(s2_3 >>> 16) & 255] ^ T3[s2_0 >>> 24] ^ s3_1;
      const n3_2 = T0[s2_2 & 255] ^ T1[(s2_3 >>> 8) & 255] ^ T2[(s2_0 >>> 16) & 255] ^ T3[s2_1 >>> 24] ^ s3_2;
      const n3_3 = T0[s2_3 & 255] ^ T1[(s2_0 >>> 8) & 255] ^ T2[(s2_1 >>> 16) & 255] ^ T3[s2_2 >>> 24] ^ s3_3;
      const n4_0 = T0[s3_0 & 255] ^ T1[(s3_1 >>> 8) & 255] ^ T2[(s3_2 >>> 16) & 255] ^ T3[s3_3 >>> 24] ^ s4_0 ^ m4;
      const n4_1 = T0[s3_1 & 255] ^ T1[(s3_2 >>> 8) & 255] ^ T2[(s3_3 >>> 16) & 255] ^ T3[s3_0 >>> 24] ^ s4_1 ^ m5;
      const n4_2 = T0[s3_2 & 255] ^ T1[(s3_3 >>> 8) & 255] ^ T2[(s3_0 >>> 16) & 255] ^ T3[s3_1 >>> 24] ^ s4_2 ^ m6;
      const n4_3 = T0[s3_3 & 255] ^ T1[(s3_0 >>> 8) & 255] ^ T2[(s3_1 >>> 16) & 255] ^ T3[s3_2 >>> 24] ^ s4_3 ^ m7;
      const n5_0 = T0[s4_0 & 255] ^ T1[(s4_1 >>> 8) & 255] ^ T2[(s4_2 >>> 16) & 255] ^ T3[s4_3 >>> 24] ^ s5_0;
      const n5_1 = T0[s4_1 & 255] ^ T1[(s4_2 >>> 8) & 255] ^ T2[(s4_3 >>> 16) & 255] ^ T3[s4_0 >>> 24] ^ s5_1;
      const n5_2 = T0[s4_2 & 255] ^ T1[(s4_3 >>> 8) & 255] ^ T2[(s4_0 >>> 16) & 255] ^ T3[s4_1 >>> 24] ^ s5_2;
      const n5_3 = T0[s4_3 & 255] ^ T1[(s4_0 >>> 8) & 255] ^ T2[(s4_1 >>> 16) & 255] ^ T3[s4_2 >>> 24] ^ s5_3;
      const n6_0 = T0[s5_0 & 255] ^ T1[(s5_1 >>> 8) & 255] ^ T2[(s5_2 >>> 16) & 255] ^ T3[s5_3 >>> 24] ^ s6_0;
      const n6_1 = T0[s5_1 & 255] ^ T1[(s5_2 >>> 8) & 255] ^ T2[(s5_3 >>> 16) & 255] ^ T3[s5_0 >>> 24] ^ s6_1;
      const n6_2 = T0[s5_2 & 255] ^ T1[(s5_3 >>> 8) & 255] ^ T2[(s5_0 >>> 16) & 255] ^ T3[s5_1 >>> 24] ^ s6_2;
      const n6_3 = T0[s5_3 & 255] ^ T1[(s5_0 >>> 8) & 255] ^ T2[(s5_1 >>> 16) & 255] ^ T3[s5_2 >>> 24] ^ s6_3;
      const n7_0 = T0[s6_0 & 255] ^ T1[(s6_1 >>> 8) & 255] ^ T2[(s6_2 >>> 16) & 255] ^ T3[s6_3 >>> 24] ^ s7_0;
      const n7_1 = T0[s6_1 & 255] ^ T1[(s6_2 >>> 8) & 255] ^ T2[(s6_3 >>> 16) & 255] ^ T3[s6_0 >>> 24] ^ s7_1;
      const n7_2 = T0[s6_2 & 255] ^ T1[(s6_3 >>> 8) & 255] ^ T2[(s6_0 >>> 16) & 255] ^ T3[s6_1 >>> 24] ^ s7_2;
      const n7_3 = T0[s6_3 & 255] ^ T1[(s6_0 >>> 8) & 255] ^ T2[(s6_1 >>> 16) & 255] ^ T3[s6_2 >>> 24] ^ s7_3;
      s0_0 = n0_0;
      s0_1 = n0_1;
      s0_2 = n0_2;
      s0_3 = n0_3;
      s1_0 = n1_0;
      s1_1 = n1_1;
      s1_2 = n1_2;
      s1_3 = n1_3;
      s2_0 = n2_0;
      s2_1 = n2_1;
      s2_2 = n2_2;
      s2_3 = n2_3;
      s3_0 = n3_0;
      s3_1 = n3_1;
      s3_2 = n3_2;
      s3_3 = n3_3;
      s4_0 = n4_0;
      s4_1 = n4_1;
      s4_2 = n4_2;
      s4_3 = n4_3;
      s5_0 = n5_0;
      s5_1 = n5_1;
      s5_2 = n5_2;
      s5_3 = n5_3;
      s6_0 = n6_0;
      s6_1 = n6_1;
      s6_2 = n6_2;
      s6_3 = n6_3;
      s7_0 = n7_0;
      s7_1 = n7_1;
      s7_2 = n7_2;
      s7_3 = n7_3;
  }
  const t0 = s0_0 ^ s1_0 ^ s2_0 ^ s3_0 ^ s4_0 ^ s5_0 ^ s6_0;
  const t1 = s0_1 ^ s1_1 ^ s2_1 ^ s3_1 ^ s4_1 ^ s5_1 ^ s6_1;
  const t2 = s0_2 ^ s1_2 ^ s2_2 ^ s3_2 ^ s4_2 ^ s5_2 ^ s6_2;
  const t3 = s0_3 ^ s1_3 ^ s2_3 ^ s3_3 ^ s4_3 ^ s5_3 ^ s6_3;
  writeWord(out, outOffset, t0);
  writeWord(out, outOffset + 4, t1);
  writeWord(out, outOffset + 8, t2);
  writeWord(out, outOffset + 12, t3);
}

function writeWord(out: Uint8Array, offset: number, word: number): void {
  out[offset] = word & 0xff;
  out[offset + 1] = (word >>> 8) & 0xff;
  out[offset + 2] = (word >>> 16) & 0xff;
  out[offset + 3] = (word >>> 24) & 0xff;
}
