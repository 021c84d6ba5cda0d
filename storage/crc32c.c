/* CRC-32C (Castagnoli) for record batches, backed by ISA-L's crc32_iscsi (runtime CPU dispatch: SSE4.2 /
 * PCLMUL where available).
 *
 * ISA-L works on the raw register: the standard CRC-32C (init ~0, final xor ~0) of buf continuing from crc
 * is ~crc32_iscsi(buf, len, ~crc). Its length is an int, so longer buffers are fed in chunks; chaining raw
 * registers across chunks gives the same result as one call. */
#include "storage/crc32c.h"

#include <isa-l/crc.h>

#define CHUNK ((size_t)1 << 30) /* well below INT_MAX */

uint32_t sl_crc32c(uint32_t crc, const void *buf, size_t len)
{
    /* ISA-L takes a non-const pointer but only reads through it. */
    unsigned char *p = (unsigned char *)(uintptr_t)buf;
    unsigned int c = ~crc;

    while (len > 0) {
        size_t n = len < CHUNK ? len : CHUNK;
        c = crc32_iscsi(p, (int)n, c);
        p += n;
        len -= n;
    }
    return ~c;
}
