/*
 * AEGIS-128L MAC, zero key and nonce (spec/wire.md §7). See aegis.h.
 *
 * The init state after the 10 initialisation updates is a constant (§7.4), so both paths start
 * from the cached value instead of re-running them on every call: that matters for the 256-byte
 * headers, where initialisation would otherwise cost as much as absorbing the input.
 */
#include "aegis.h"

#include <string.h>

/* The state after initialisation with K = N = 0, byte order as in the spec (§7.4). */
static const uint8_t aegis_init_state[8][16] = {
  {0x72, 0xf2, 0xf4, 0x5d, 0x9e, 0xc7, 0x42, 0x02, 0x3e, 0x84, 0xaa, 0x66, 0xae, 0xfd, 0x35, 0x92},
  {0x42, 0x07, 0x1d, 0xcd, 0x30, 0x1a, 0xf7, 0xcf, 0x8a, 0x7c, 0x6c, 0x4a, 0x20, 0xf6, 0x30, 0x65},
  {0xf8, 0x4e, 0xa4, 0xa1, 0xc6, 0xaa, 0x99, 0xce, 0xa5, 0x1d, 0x8b, 0x5c, 0x9c, 0xc3, 0x05, 0x8f},
  {0x0f, 0xc0, 0x5e, 0x11, 0x17, 0xaf, 0x10, 0x75, 0xa4, 0x11, 0x19, 0xf3, 0x29, 0xc5, 0xa8, 0xd2},
  {0x57, 0x88, 0x8c, 0x33, 0xd3, 0x16, 0x03, 0x55, 0x36, 0x40, 0x35, 0xc8, 0xf2, 0x1e, 0x79, 0x86},
  {0x48, 0xfa, 0x4b, 0x5d, 0xd5, 0x70, 0x42, 0xc4, 0x08, 0x4f, 0xe9, 0xf5, 0x15, 0x08, 0xb6, 0x44},
  {0x0b, 0x99, 0x89, 0xcc, 0x91, 0x05, 0x03, 0x85, 0x03, 0x05, 0xde, 0x7e, 0xf1, 0xa9, 0x8b, 0xfe},
  {0xb3, 0x0e, 0x75, 0x21, 0x39, 0x0c, 0xcf, 0x8e, 0xcf, 0xe9, 0x4a, 0xf6, 0x87, 0x95, 0x5d, 0xd7},
};

/* ------------------------------------------------------------------------------------------ */
/* Portable path: one AES round as four T-table lookups per column over little-endian words.   */
/* ------------------------------------------------------------------------------------------ */

/*
 * T0[x] = MixColumns contribution of S-box(x) in input row 0: bytes (2s, s, s, 3s), little-endian.
 * Generated from the S-box definition (GF(2^8) inverse + affine map with 0x63); a const table
 * rather than one built at load time so worker threads never race to initialise it. T1..T3 are
 * byte rotations of T0 and are computed inline.
 */
static const uint32_t T0[256] = {
  0xa56363c6u, 0x847c7cf8u, 0x997777eeu, 0x8d7b7bf6u, 0x0df2f2ffu, 0xbd6b6bd6u,
  0xb16f6fdeu, 0x54c5c591u, 0x50303060u, 0x03010102u, 0xa96767ceu, 0x7d2b2b56u,
  0x19fefee7u, 0x62d7d7b5u, 0xe6abab4du, 0x9a7676ecu, 0x45caca8fu, 0x9d82821fu,
  0x40c9c989u, 0x877d7dfau, 0x15fafaefu, 0xeb5959b2u, 0xc947478eu, 0x0bf0f0fbu,
  0xecadad41u, 0x67d4d4b3u, 0xfda2a25fu, 0xeaafaf45u, 0xbf9c9c23u, 0xf7a4a453u,
  0x967272e4u, 0x5bc0c09bu, 0xc2b7b775u, 0x1cfdfde1u, 0xae93933du, 0x6a26264cu,
  0x5a36366cu, 0x413f3f7eu, 0x02f7f7f5u, 0x4fcccc83u, 0x5c343468u, 0xf4a5a551u,
  0x34e5e5d1u, 0x08f1f1f9u, 0x937171e2u, 0x73d8d8abu, 0x53313162u, 0x3f15152au,
  0x0c040408u, 0x52c7c795u, 0x65232346u, 0x5ec3c39du, 0x28181830u, 0xa1969637u,
  0x0f05050au, 0xb59a9a2fu, 0x0907070eu, 0x36121224u, 0x9b80801bu, 0x3de2e2dfu,
  0x26ebebcdu, 0x6927274eu, 0xcdb2b27fu, 0x9f7575eau, 0x1b090912u, 0x9e83831du,
  0x742c2c58u, 0x2e1a1a34u, 0x2d1b1b36u, 0xb26e6edcu, 0xee5a5ab4u, 0xfba0a05bu,
  0xf65252a4u, 0x4d3b3b76u, 0x61d6d6b7u, 0xceb3b37du, 0x7b292952u, 0x3ee3e3ddu,
  0x712f2f5eu, 0x97848413u, 0xf55353a6u, 0x68d1d1b9u, 0x00000000u, 0x2cededc1u,
  0x60202040u, 0x1ffcfce3u, 0xc8b1b179u, 0xed5b5bb6u, 0xbe6a6ad4u, 0x46cbcb8du,
  0xd9bebe67u, 0x4b393972u, 0xde4a4a94u, 0xd44c4c98u, 0xe85858b0u, 0x4acfcf85u,
  0x6bd0d0bbu, 0x2aefefc5u, 0xe5aaaa4fu, 0x16fbfbedu, 0xc5434386u, 0xd74d4d9au,
  0x55333366u, 0x94858511u, 0xcf45458au, 0x10f9f9e9u, 0x06020204u, 0x817f7ffeu,
  0xf05050a0u, 0x443c3c78u, 0xba9f9f25u, 0xe3a8a84bu, 0xf35151a2u, 0xfea3a35du,
  0xc0404080u, 0x8a8f8f05u, 0xad92923fu, 0xbc9d9d21u, 0x48383870u, 0x04f5f5f1u,
  0xdfbcbc63u, 0xc1b6b677u, 0x75dadaafu, 0x63212142u, 0x30101020u, 0x1affffe5u,
  0x0ef3f3fdu, 0x6dd2d2bfu, 0x4ccdcd81u, 0x140c0c18u, 0x35131326u, 0x2fececc3u,
  0xe15f5fbeu, 0xa2979735u, 0xcc444488u, 0x3917172eu, 0x57c4c493u, 0xf2a7a755u,
  0x827e7efcu, 0x473d3d7au, 0xac6464c8u, 0xe75d5dbau, 0x2b191932u, 0x957373e6u,
  0xa06060c0u, 0x98818119u, 0xd14f4f9eu, 0x7fdcdca3u, 0x66222244u, 0x7e2a2a54u,
  0xab90903bu, 0x8388880bu, 0xca46468cu, 0x29eeeec7u, 0xd3b8b86bu, 0x3c141428u,
  0x79dedea7u, 0xe25e5ebcu, 0x1d0b0b16u, 0x76dbdbadu, 0x3be0e0dbu, 0x56323264u,
  0x4e3a3a74u, 0x1e0a0a14u, 0xdb494992u, 0x0a06060cu, 0x6c242448u, 0xe45c5cb8u,
  0x5dc2c29fu, 0x6ed3d3bdu, 0xefacac43u, 0xa66262c4u, 0xa8919139u, 0xa4959531u,
  0x37e4e4d3u, 0x8b7979f2u, 0x32e7e7d5u, 0x43c8c88bu, 0x5937376eu, 0xb76d6ddau,
  0x8c8d8d01u, 0x64d5d5b1u, 0xd24e4e9cu, 0xe0a9a949u, 0xb46c6cd8u, 0xfa5656acu,
  0x07f4f4f3u, 0x25eaeacfu, 0xaf6565cau, 0x8e7a7af4u, 0xe9aeae47u, 0x18080810u,
  0xd5baba6fu, 0x887878f0u, 0x6f25254au, 0x722e2e5cu, 0x241c1c38u, 0xf1a6a657u,
  0xc7b4b473u, 0x51c6c697u, 0x23e8e8cbu, 0x7cdddda1u, 0x9c7474e8u, 0x211f1f3eu,
  0xdd4b4b96u, 0xdcbdbd61u, 0x868b8b0du, 0x858a8a0fu, 0x907070e0u, 0x423e3e7cu,
  0xc4b5b571u, 0xaa6666ccu, 0xd8484890u, 0x05030306u, 0x01f6f6f7u, 0x120e0e1cu,
  0xa36161c2u, 0x5f35356au, 0xf95757aeu, 0xd0b9b969u, 0x91868617u, 0x58c1c199u,
  0x271d1d3au, 0xb99e9e27u, 0x38e1e1d9u, 0x13f8f8ebu, 0xb398982bu, 0x33111122u,
  0xbb6969d2u, 0x70d9d9a9u, 0x898e8e07u, 0xa7949433u, 0xb69b9b2du, 0x221e1e3cu,
  0x92878715u, 0x20e9e9c9u, 0x49cece87u, 0xff5555aau, 0x78282850u, 0x7adfdfa5u,
  0x8f8c8c03u, 0xf8a1a159u, 0x80898909u, 0x170d0d1au, 0xdabfbf65u, 0x31e6e6d7u,
  0xc6424284u, 0xb86868d0u, 0xc3414182u, 0xb0999929u, 0x772d2d5au, 0x110f0f1eu,
  0xcbb0b07bu, 0xfc5454a8u, 0xd6bbbb6du, 0x3a16162cu,
};

static inline uint32_t rotl32(uint32_t x, unsigned n) { return (x << n) | (x >> (32 - n)); }

static inline uint32_t load_le32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline void store_le32(uint8_t *p, uint32_t x) {
  p[0] = (uint8_t)x;
  p[1] = (uint8_t)(x >> 8);
  p[2] = (uint8_t)(x >> 16);
  p[3] = (uint8_t)(x >> 24);
}

/* out = AESRound(x, key) on blocks of 4 little-endian words (the same as x86 AESENC). */
static inline void aes_round_portable(const uint32_t x[4], const uint32_t key[4], uint32_t out[4]) {
  for (int c = 0; c < 4; c++) {
    out[c] = T0[x[c] & 0xff] ^ rotl32(T0[(x[(c + 1) & 3] >> 8) & 0xff], 8) ^
             rotl32(T0[(x[(c + 2) & 3] >> 16) & 0xff], 16) ^ rotl32(T0[x[(c + 3) & 3] >> 24], 24) ^
             key[c];
  }
}

/* Update(M0, M1) of §7.3: S'i = AESRound(S(i-1), Si), with M0 into S'0 and M1 into S'4. */
static void update_portable(uint32_t s[8][4], const uint32_t m0[4], const uint32_t m1[4]) {
  uint32_t next[8][4];
  for (int i = 0; i < 8; i++) aes_round_portable(s[(i + 7) & 7], s[i], next[i]);
  for (int w = 0; w < 4; w++) {
    next[0][w] ^= m0[w];
    next[4][w] ^= m1[w];
  }
  memcpy(s, next, sizeof next);
}

static void absorb_portable(uint32_t s[8][4], const uint8_t block[32]) {
  uint32_t m0[4], m1[4];
  for (int w = 0; w < 4; w++) {
    m0[w] = load_le32(block + 4 * w);
    m1[w] = load_le32(block + 16 + 4 * w);
  }
  update_portable(s, m0, m1);
}

void scarab_aegis_mac_portable(const uint8_t *data, size_t length, uint8_t tag[16]) {
  uint32_t s[8][4];
  for (int i = 0; i < 8; i++)
    for (int w = 0; w < 4; w++) s[i][w] = load_le32(aegis_init_state[i] + 4 * w);

  size_t full = length / 32;
  for (size_t b = 0; b < full; b++) absorb_portable(s, data + 32 * b);
  size_t tail = length % 32;
  if (tail > 0) {
    uint8_t padded[32] = {0};
    memcpy(padded, data + 32 * full, tail);
    absorb_portable(s, padded);
  }

  /* T = S2 ^ (LE64(bit length of the input) || LE64(0)), then Update(T, T) seven times. */
  uint64_t bits = (uint64_t)length * 8u;
  uint32_t t[4] = {s[2][0] ^ (uint32_t)bits, s[2][1] ^ (uint32_t)(bits >> 32), s[2][2], s[2][3]};
  for (int r = 0; r < 7; r++) update_portable(s, t, t);

  for (int w = 0; w < 4; w++) {
    uint32_t x = s[0][w] ^ s[1][w] ^ s[2][w] ^ s[3][w] ^ s[4][w] ^ s[5][w] ^ s[6][w];
    store_le32(tag + 4 * w, x);
  }
}

/* ------------------------------------------------------------------------------------------ */
/* AES-NI path. The target attribute enables the instructions for these functions only, so the */
/* file builds without a global -maes and the binary still loads on x86_64 CPUs without AES-NI. */
/* ------------------------------------------------------------------------------------------ */

/* SCARAB_NO_AESNI builds the portable path alone, as on non-x86 targets (for testing that build). */
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__) && !defined(SCARAB_NO_AESNI)
#define SCARAB_HAVE_AESNI_PATH 1
#include <immintrin.h>

#define AEGIS_TARGET __attribute__((target("aes,sse4.1")))

/*
 * One Update(M0, M1) on the eight state registers. A macro rather than a function so the state
 * stays in eight __m128i locals (registers) across the loop. All eight new blocks are computed
 * from the old state before any is replaced; the eight AESENCs are independent, so they overlap
 * in the pipeline.
 */
#define AEGIS_UPDATE(m0, m1)                                  \
  do {                                                        \
    __m128i n0 = _mm_aesenc_si128(s7, _mm_xor_si128(s0, (m0))); \
    __m128i n1 = _mm_aesenc_si128(s0, s1);                    \
    __m128i n2 = _mm_aesenc_si128(s1, s2);                    \
    __m128i n3 = _mm_aesenc_si128(s2, s3);                    \
    __m128i n4 = _mm_aesenc_si128(s3, _mm_xor_si128(s4, (m1))); \
    __m128i n5 = _mm_aesenc_si128(s4, s5);                    \
    __m128i n6 = _mm_aesenc_si128(s5, s6);                    \
    __m128i n7 = _mm_aesenc_si128(s6, s7);                    \
    s0 = n0; s1 = n1; s2 = n2; s3 = n3;                       \
    s4 = n4; s5 = n5; s6 = n6; s7 = n7;                       \
  } while (0)

AEGIS_TARGET
static void scarab_aegis_mac_aesni(const uint8_t *data, size_t length, uint8_t tag[16]) {
  __m128i s0 = _mm_loadu_si128((const __m128i *)aegis_init_state[0]);
  __m128i s1 = _mm_loadu_si128((const __m128i *)aegis_init_state[1]);
  __m128i s2 = _mm_loadu_si128((const __m128i *)aegis_init_state[2]);
  __m128i s3 = _mm_loadu_si128((const __m128i *)aegis_init_state[3]);
  __m128i s4 = _mm_loadu_si128((const __m128i *)aegis_init_state[4]);
  __m128i s5 = _mm_loadu_si128((const __m128i *)aegis_init_state[5]);
  __m128i s6 = _mm_loadu_si128((const __m128i *)aegis_init_state[6]);
  __m128i s7 = _mm_loadu_si128((const __m128i *)aegis_init_state[7]);

  /* Unaligned loads: the data can start at any byteOffset of a JS buffer. */
  size_t full = length / 32;
  const uint8_t *p = data;
  for (size_t b = 0; b < full; b++, p += 32) {
    __m128i m0 = _mm_loadu_si128((const __m128i *)p);
    __m128i m1 = _mm_loadu_si128((const __m128i *)(p + 16));
    AEGIS_UPDATE(m0, m1);
  }
  size_t tail = length % 32;
  if (tail > 0) {
    uint8_t padded[32] = {0};
    memcpy(padded, p, tail);
    __m128i m0 = _mm_loadu_si128((const __m128i *)padded);
    __m128i m1 = _mm_loadu_si128((const __m128i *)(padded + 16));
    AEGIS_UPDATE(m0, m1);
  }

  /* T = S2 ^ (LE64(bit length) || LE64(0)); x86 is little-endian, so set_epi64x lays it out. */
  __m128i t = _mm_xor_si128(s2, _mm_set_epi64x(0, (long long)((uint64_t)length * 8u)));
  for (int r = 0; r < 7; r++) AEGIS_UPDATE(t, t);

  __m128i x = _mm_xor_si128(_mm_xor_si128(s0, s1), _mm_xor_si128(s2, s3));
  x = _mm_xor_si128(x, _mm_xor_si128(_mm_xor_si128(s4, s5), s6));
  _mm_storeu_si128((__m128i *)tag, x);
}
#endif

int scarab_aegis_aesni_available(void) {
#ifdef SCARAB_HAVE_AESNI_PATH
  /* libgcc initialises the CPU model in a constructor, so this is a load and a bit test. */
  return __builtin_cpu_supports("aes") && __builtin_cpu_supports("sse4.1");
#else
  return 0;
#endif
}

void scarab_aegis_mac(const uint8_t *data, size_t length, uint8_t tag[16]) {
#ifdef SCARAB_HAVE_AESNI_PATH
  if (scarab_aegis_aesni_available()) {
    scarab_aegis_mac_aesni(data, length, tag);
    return;
  }
#endif
  scarab_aegis_mac_portable(data, length, tag);
}
