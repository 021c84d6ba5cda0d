/* Deterministic record batches and a whole-log checker, for the storage durability tests. Test code only.
 *
 * Every batch these tests append is a pure function of its base offset and epoch (sl_tlog_gen), so a
 * checker that knows nothing about the writer (another process, a run that crashed) can regenerate the exact
 * bytes any batch must have. Batches hold 1-4 records of 4-123 value bytes; some keys and values are null,
 * some records carry a header. The record at offset o has timestamp SL_TLOG_T0 + 10 * o. */
#ifndef SL_TESTS_LOGCHECK_H
#define SL_TESTS_LOGCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "storage/log.h"
#include "storage/types.h"

#define SL_TLOG_T0 INT64_C(1700000000000)

/* Timestamp of the record at offset off. */
int64_t sl_tlog_ts(sl_offset_t off);

/* Number of records in the batch that starts at base. */
int32_t sl_tlog_count(sl_offset_t base);

/* Replaces the contents of out with the batch that starts at base, exactly as the log must store it
 * (baseOffset and partitionLeaderEpoch filled in). Returns 0 or -ENOMEM. */
int sl_tlog_gen(sl_offset_t base, sl_epoch_t epoch, struct sl_buf *out);

/* Generates the batch for the current LEO of l and appends it with 'epoch'. Returns sl_log_append's result;
 * on 0 also checks that the assigned offsets are the expected ones (SL_ESTATE if not). *base_out gets the
 * LEO the batch was generated for, *last_out its last offset (both set even on failure). */
int sl_tlog_append(struct sl_log *l, sl_epoch_t epoch, sl_offset_t *base_out, sl_offset_t *last_out);

/* Reads the whole log [sl_log_start, sl_log_end) batch by batch and checks that every batch passes
 * sl_batch_validate, that offsets are dense from the log start, that every batch equals
 * sl_tlog_gen(base, epoch) byte for byte, that LEO >= must_have and that LEO <= max_end.
 * Returns 0, or -1 with the first problem written into why (n bytes). */
int sl_tlog_check(struct sl_log *l, sl_epoch_t epoch, sl_offset_t must_have, sl_offset_t max_end, char *why,
                  size_t n);

#endif
