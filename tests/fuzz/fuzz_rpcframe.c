/* libFuzzer harness: bytes a peer sends to cluster.port (server/rpc_frame.h), parsed as a stream of frames
 * the way server/rpc.c does, whole and cut into two pieces.
 *
 * INPUT: byte 0 picks the cut (its value modulo the length); the rest is the stream.
 *
 * CHECKS
 *   1. sl_rpc_frame_parse returns 1, 0 or SL_ECORRUPT; on 1 the frame lies inside the input (used <= n, the
 *      payload within it, plen = used - SL_RPC_HDR_SIZE) and re-encodes to exactly the bytes it took.
 *   2. Streaming is cut-independent: parsing the bytes as they arrive in two pieces (appending the second
 *      to what the first left) yields the same frames and the same verdict as parsing them whole. */
#include <stdlib.h>
#include <string.h>

#include "server/rpc_frame.h"
#include "storage/err.h"
#include "tests/fuzz/fuzz_check.h"

/* Parses every whole frame of p[0, n); returns how many, the verdict of the last call in *last, bytes used. */
static size_t walk(const uint8_t *p, size_t n, int *last, size_t *used_all, uint32_t *ids_sum)
{
    size_t at = 0, frames = 0;
    for (;;) {
        struct sl_rpc_hdr h;
        const uint8_t *pl;
        size_t plen, used;
        int rc = sl_rpc_frame_parse(p + at, n - at, &h, &pl, &plen, &used);
        FUZZ_CHECK(rc == 1 || rc == 0 || rc == SL_ECORRUPT, "parse returned %d", rc);
        *last = rc;
        if (rc != 1)
            break;
        FUZZ_CHECK(used <= n - at && used >= SL_RPC_HDR_SIZE && plen == used - SL_RPC_HDR_SIZE &&
                       pl == p + at + SL_RPC_HDR_SIZE,
                   "frame bounds: used %zu of %zu, plen %zu", used, n - at, plen);
        struct sl_buf out = {0};
        FUZZ_CHECK(sl_rpc_frame_encode(&h, pl, plen, &out) == 0, "a parsed frame does not encode");
        FUZZ_CHECK(out.len == used && memcmp(out.base, p + at, used) == 0, "re-encoding differs");
        sl_buf_fini(&out);
        *ids_sum += h.request_id;
        at += used;
        frames++;
    }
    *used_all = at;
    return frames;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1, cut = n ? data[0] % (n + 1) : 0;
    int last_whole;
    size_t used_whole;
    uint32_t ids_whole = 0, ids_parts = 0;
    size_t frames_whole = walk(p, n, &last_whole, &used_whole, &ids_whole);

    /* the first piece, then what it left followed by the second piece */
    uint8_t *buf = malloc(n ? n : 1);
    memcpy(buf, p, cut);
    int last1;
    size_t used1;
    size_t frames = walk(buf, cut, &last1, &used1, &ids_parts);
    if (last1 != SL_ECORRUPT) {
        memmove(buf, buf + used1, cut - used1);
        memcpy(buf + (cut - used1), p + cut, n - cut);
        int last2;
        size_t used2;
        frames += walk(buf, n - used1, &last2, &used2, &ids_parts);
        FUZZ_CHECK(last2 == last_whole && used1 + used2 == used_whole, "verdict %d/%d, used %zu/%zu", last2,
                   last_whole, used1 + used2, used_whole);
        FUZZ_CHECK(frames == frames_whole && ids_parts == ids_whole, "frames %zu vs %zu", frames, frames_whole);
    } else {
        FUZZ_CHECK(last_whole == SL_ECORRUPT, "corrupt in a prefix but not in the whole");
    }
    free(buf);
    return 0;
}
