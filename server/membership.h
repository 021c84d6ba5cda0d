/* This node's membership of the cluster (issue 14): it serves the node-to-node RPC on cluster.port and
 * registers itself in the metadata quorum.
 *
 * REGISTRATION: a node is a member once the committed metadata holds its REGISTER_BROKER record with this
 * process's incarnation (the wall-clock ms of its start: a restart registers anew and an older
 * registration can never overwrite a newer one, server/meta_image.h). A thread checks every 200 ms (every
 * 500 ms once registered, so a registration lost to a restore, or fenced, is made again): the quorum leader proposes
 * its own record directly; any other node sends its record to the leader's cluster port (known from the
 * leader's own registration) as an RPC PROPOSE, which the leader proposes and answers once it is committed.
 * A node whose leader is not yet registered waits for it.
 *
 * LIVENESS: a registered node sends the leader a HEARTBEAT every 500 ms. The leader (the controller) fences a
 * node it has not heard for broker.session.timeout.ms -- counted from when it became leader for nodes it
 * has not heard yet -- by proposing FENCE_BROKER, and unfences it (UNFENCE_BROKER) when it hears it again;
 * a restarted node registers with a new incarnation, which unfences it too. The listing shows fenced nodes
 * as "fenced".
 *
 * RPC served: PING (empty), PROPOSE (payload: one metadata record, server/meta_rec.h; status: its apply
 * result, or SL_ENOTLEADER when this node is not the leader, SL_ECORRUPT when it does not decode),
 * HEARTBEAT (i32 node id, i64 incarnation; SL_ENOTLEADER on a non-leader).
 *
 * THREADS: its own two (the RPC server's and the registration loop); start and stop from main. */
#ifndef SL_SERVER_MEMBERSHIP_H
#define SL_SERVER_MEMBERSHIP_H

#include <stdint.h>

#include "server/quorum.h"

struct sl_membership;

struct sl_membership_cfg {
    struct sl_quorum *quorum; /* borrowed; outlives the membership */
    const char *bind_host;    /* where cluster.port listens (rest.bind's address) */
    uint16_t cluster_port;    /* 0: ephemeral */
    const char *advertised_host; /* what the registration tells other nodes and clients */
    uint16_t rest_port, ws_port; /* the bound ones */
    int64_t incarnation;      /* the process's start, wall-clock ms */
    int64_t session_timeout_ms; /* broker.session.timeout.ms */
};

/* Starts the RPC server and the registration loop. Returns 0 with *out, or -errno (the port is taken, ...). */
int sl_membership_start(const struct sl_membership_cfg *cfg, struct sl_membership **out);
/* The bound cluster port. */
uint16_t sl_membership_cluster_port(const struct sl_membership *m);
/* Stops both threads and frees m (NULL is a no-op). */
void sl_membership_stop(struct sl_membership *m);

#endif
