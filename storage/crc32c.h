/* CRC-32C (Castagnoli), the checksum of Kafka's RecordBatch v2. */
#ifndef SL_STORAGE_CRC32C_H
#define SL_STORAGE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Standard CRC-32C of buf, continuing from crc (pass 0 to start). sl_crc32c(0, "123456789", 9) == 0xe3069283.
 * Incremental: sl_crc32c(sl_crc32c(0, a, n), b, m) == CRC of a||b. Thread-safe. */
uint32_t sl_crc32c(uint32_t crc, const void *buf, size_t len);

#endif
