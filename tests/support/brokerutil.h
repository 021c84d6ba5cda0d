/* Test helpers for code that uses the broker: open one on a temp dir, build batches, produce and wait. */
#ifndef SL_TESTS_BROKERUTIL_H
#define SL_TESTS_BROKERUTIL_H

#include <stdbool.h>
#include <stdint.h>

#include "server/broker.h"
#include "server/config.h"

/* Fills cfg with defaults and data_dir = dir (copied), durability as given, a short flush.ms. */
void sl_tb_config(struct sl_config *cfg, const char *dir, enum sl_durability d);
/* Builds a batch of n records "<prefix>-<i>" (keys "k<i>", timestamp ts) into a malloc'd buffer. */
uint8_t *sl_tb_batch(const char *prefix, int n, int64_t ts, size_t *len);
/* Produces one such batch and waits (deadline 10 s) for its done callback. Returns its rc and sets the first and last offsets. */
int sl_tb_produce_wait(struct sl_broker *b, const char *topic, int32_t p, const char *prefix, int n,
                       sl_offset_t *first, sl_offset_t *last);
/* Counts the records of topic/partition readable from 'from' up to the HW. */
int64_t sl_tb_count_records(struct sl_broker *b, const char *topic, int32_t p, sl_offset_t from);

#endif
