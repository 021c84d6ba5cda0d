/* Scalar domain types and the non-owning byte slice shared by every layer. */
#ifndef SL_STORAGE_TYPES_H
#define SL_STORAGE_TYPES_H

#include <stddef.h>
#include <stdint.h>

typedef int64_t sl_offset_t; /* a record's position in a partition log; -1 = none */
typedef int32_t sl_epoch_t;  /* leader epoch; 0 on a single node */

/* A borrowed view of bytes; the owner says how long it stays valid. */
struct sl_slice {
    const uint8_t *base;
    size_t len;
};

/* A growable owned byte buffer. Released with sl_buf_fini(). */
struct sl_buf {
    uint8_t *base;
    size_t len;
    size_t cap;
};

/* Makes room for 'extra' more bytes. Returns 0 or -ENOMEM. */
int sl_buf_reserve(struct sl_buf *b, size_t extra);
/* Appends n bytes. Returns 0 or -ENOMEM. */
int sl_buf_append(struct sl_buf *b, const void *p, size_t n);
void sl_buf_fini(struct sl_buf *b);

#endif
