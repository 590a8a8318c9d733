/*
 * AEGIS-128L used as a 128-bit MAC with a zero key and zero nonce (spec/wire.md §7): the input is
 * the associated data and the message is empty. Two implementations give identical tags: an AES-NI
 * path (x86 with GCC/Clang, chosen at run time) and a portable table-driven C path.
 */
#ifndef SCARAB_AEGIS_H
#define SCARAB_AEGIS_H

#include <stddef.h>
#include <stdint.h>

/* Writes the 16-byte tag of data[0..length) into tag. Uses AES-NI when the CPU has it. */
void scarab_aegis_mac(const uint8_t *data, size_t length, uint8_t tag[16]);

/* The portable path only (no CPU feature needed); exposed so tests can compare both paths. */
void scarab_aegis_mac_portable(const uint8_t *data, size_t length, uint8_t tag[16]);

/* 1 when scarab_aegis_mac uses the AES-NI path on this CPU, else 0. */
int scarab_aegis_aesni_available(void);

#endif
