/* libFuzzer harness: a metadata record as another node's quorum log entry would carry it (server/meta_rec.h),
 * decoded and applied to an image that already holds brokers and a topic (server/meta_image.h).
 *
 * INPUT: one encoded record, whole.
 *
 * CHECKS
 *   1. sl_meta_rec_decode returns 0 or SL_ECORRUPT (never anything else: no allocation the input sizes
 *      fails at these lengths) and on SL_ECORRUPT leaves nothing to free.
 *   2. One encoding per record: a decoded record encodes back to exactly the input bytes.
 *   3. Apply is atomic and deterministic: applied to two copies of the same image it gives the same result
 *      code and the same snapshot bytes; a refusal leaves the snapshot as it was; every snapshot restores
 *      to an image with the same snapshot. */
#include <errno.h>
#include <string.h>

#include "server/meta_image.h"
#include "storage/err.h"
#include "tests/fuzz/fuzz_check.h"

/* The image every input is applied to: nodes 1-3, topic "orders" with 2 partitions on them. */
static void base_image(struct sl_meta_image *im)
{
    memset(im, 0, sizeof *im);
    for (int32_t id = 1; id <= 3; id++) {
        struct sl_meta_rec r = {.type = SL_META_REGISTER_BROKER, .broker = {.id = id, .incarnation = 77}};
        snprintf(r.broker.host, sizeof r.broker.host, "node-%d", (int)id);
        FUZZ_CHECK(sl_meta_apply(im, &r) == 0, "register %d", (int)id);
    }
    struct sl_meta_part parts[2] = {{.leader = 1, .nreplicas = 3, .replicas = {1, 2, 3}},
                                    {.leader = 2, .nreplicas = 2, .replicas = {2, 3}}};
    struct sl_meta_rec t = {.type = SL_META_TOPIC_CREATE, .parts = parts, .nparts = 2};
    snprintf(t.topic, sizeof t.topic, "orders");
    FUZZ_CHECK(sl_meta_apply(im, &t) == 0, "create");
}

static void snap(const struct sl_meta_image *im, struct sl_buf *b)
{
    b->len = 0;
    FUZZ_CHECK(sl_meta_snapshot(im, b) == 0, "snapshot");
}

static void check_apply(const struct sl_meta_rec *r)
{
    struct sl_meta_image a, b, c;
    base_image(&a);
    base_image(&b);
    struct sl_buf before = {0}, sa = {0}, sb = {0}, sc = {0};
    snap(&a, &before);
    int ra = sl_meta_apply(&a, r), rb = sl_meta_apply(&b, r);
    FUZZ_CHECK(ra == rb, "apply gave %d then %d", ra, rb);
    snap(&a, &sa);
    snap(&b, &sb);
    FUZZ_CHECK(sa.len == sb.len && memcmp(sa.base, sb.base, sa.len) == 0, "two images differ after one record");
    if (ra)
        FUZZ_CHECK(sa.len == before.len && memcmp(sa.base, before.base, sa.len) == 0, "refusal %d changed it", ra);
    FUZZ_CHECK(sl_meta_restore(&c, sa.base, sa.len) == 0, "own snapshot refused");
    snap(&c, &sc);
    FUZZ_CHECK(sc.len == sa.len && memcmp(sc.base, sa.base, sa.len) == 0, "restore gives another image");
    sl_meta_image_fini(&a);
    sl_meta_image_fini(&b);
    sl_meta_image_fini(&c);
    sl_buf_fini(&before);
    sl_buf_fini(&sa);
    sl_buf_fini(&sb);
    sl_buf_fini(&sc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sl_meta_rec r;
    int rc = sl_meta_rec_decode(data, size, &r);
    FUZZ_CHECK(rc == 0 || rc == SL_ECORRUPT, "decode returned %d", rc);
    if (rc)
        return 0;
    struct sl_buf out = {0};
    FUZZ_CHECK(sl_meta_rec_encode(&r, &out) == 0, "a decoded record does not encode");
    FUZZ_CHECK(out.len == size && memcmp(out.base, data, size) == 0, "re-encoding differs (%zu vs %zu bytes)",
               out.len, size);
    sl_buf_fini(&out);
    check_apply(&r);
    sl_meta_rec_fini(&r);
    return 0;
}
