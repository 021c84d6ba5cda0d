/* The metadata state machine that libraft drives (struct raft_fsm, raft.h): each committed quorum entry is
 * one metadata record (server/meta_rec.h), applied to this node's image (server/meta_image.h); snapshots
 * are the image's snapshot bytes. The quorum (server/quorum.h) owns the raft instance; this file only
 * turns entries into image changes, so the unit tests can drive it under libraft's simulated fixture.
 *
 * ENTRY: u32 length of the record (big-endian), the record (server/meta_rec.h), zeros up to a multiple of 8
 * bytes: libraft's on-disk log (raft_uv) takes only entries whose length is a multiple of 8.
 *
 * RESULT of an entry: libraft hands the apply's result to the proposer's raft_apply callback. It is the
 * record's sl_meta_apply code, (void *)(intptr_t)rc: 0, or a refusal (SL_EEXISTS, SL_EFENCED, ...). A
 * refused record is still a committed entry that changed nothing -- every node refuses it the same way --
 * so apply itself always returns 0; an entry that does not decode (a bug, or a newer version) is refused
 * with SL_ECORRUPT, counted, and changes nothing.
 *
 * THREADS: apply, snapshot and restore run on the raft loop thread. sl_meta_fsm_read runs fn under the
 * image's mutex, from any thread; on_apply (optional) runs on the raft thread after each entry, outside the
 * mutex, and must not call back into raft.
 *
 * OWNERSHIP: the caller owns the struct (embedded or malloc'd); sl_meta_fsm_init / _fini. It must outlive
 * the raft instance it was given to. */
#ifndef SL_SERVER_META_FSM_H
#define SL_SERVER_META_FSM_H

#include <pthread.h>
#include <raft.h>
#include <stdint.h>

#include "server/meta_image.h"

struct sl_meta_fsm {
    struct raft_fsm fsm;           /* give &fsm to raft_init / raft_fixture_grow; fsm.data is this */
    pthread_mutex_t mu;            /* guards image and the counters */
    struct sl_meta_image image;    /* guarded by: mu */
    uint64_t applied, refused, corrupt, restores; /* guarded by: mu; entries seen, refused, undecodable */
    void (*on_apply)(void *arg, const struct sl_meta_rec *r, int rc);
    void *arg;
};

/* Initializes f with an empty image. Returns 0 or -errno. */
int sl_meta_fsm_init(struct sl_meta_fsm *f);
void sl_meta_fsm_fini(struct sl_meta_fsm *f);

/* Runs fn(image, arg) under f's mutex and returns what fn returns: the image may be read, never kept. */
int sl_meta_fsm_read(struct sl_meta_fsm *f, int (*fn)(const struct sl_meta_image *im, void *arg), void *arg);

/* Appends rec as one quorum log ENTRY to out. Returns 0, -EINVAL (rec does not encode) or -ENOMEM. */
int sl_meta_entry_encode(const struct sl_meta_rec *rec, struct sl_buf *out);

/* Encodes rec into a raft-owned buffer and proposes it through raft_apply(r, req, ..., cb). Raft thread only.
 * Returns 0 (cb runs later with the RESULT above), -EINVAL (rec does not encode), -ENOMEM, or the raft
 * error as SL_ENOTLEADER (RAFT_NOTLEADER, RAFT_LEADERSHIPLOST) / SL_ESTOPPED (RAFT_SHUTDOWN) / -EIO. */
int sl_meta_propose(struct raft *r, struct raft_apply *req, const struct sl_meta_rec *rec, raft_apply_cb cb);

/* The sluice code for a libraft one (status of an apply callback, return of raft calls): 0, SL_ENOTLEADER,
 * SL_ESTOPPED, -ENOMEM or -EIO. */
int sl_meta_raft_rc(int raft_rc);

#endif
