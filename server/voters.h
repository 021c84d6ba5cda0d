/* The metadata quorum's voters, as controller.quorum.voters gives them (Kafka's syntax):
 *
 *     1@10.0.0.1:9093,2@[fd00::2]:9093,3@node3.example:9093
 *
 * Each entry is <id>@<host>:<port>, the id of a voter and the address of its quorum port. Entries are
 * separated by ',' (spaces around an entry are ignored, as Kafka's list type does); an IPv6 address is
 * written in brackets. An empty string is no voters at all: a one-node cluster.
 *
 * RULES (each a refusal with a one-line message):
 *   1. no empty entry ("1@a:1,,2@b:1", a trailing ',');
 *   2. an id is decimal digits only, 0..2147483647 (Kafka's node.id range);
 *   3. a host is a name or IPv4 address (letters, digits, '.', '-'; at most 253 bytes) or a bracketed IPv6
 *      address (hex digits, ':', '.');
 *   4. a port is decimal, 1..65535 (a voter's port must be a real one: no 0 = ephemeral here);
 *   5. no id appears twice, and no host:port appears twice (compared as written, host case-insensitively:
 *      "localhost" and "127.0.0.1" are not known to be the same);
 *   6. at most SL_VOTERS_MAX voters.
 * Nodes whose id is not in the list are non-voters (server/config.h says which nodes may be). */
#ifndef SL_SERVER_VOTERS_H
#define SL_SERVER_VOTERS_H

#include <stddef.h>
#include <stdint.h>

/* DESIGN.md §8: up to 5 voters. A quorum of 3 survives one failure, 5 survive two (Kafka recommends 3 or 5);
 * more voters only make every metadata commit wait for more fsyncs. */
#define SL_VOTERS_MAX 5

struct sl_voter {
    int32_t id;
    char host[256]; /* without brackets: "fd00::2", "10.0.0.1", "node3.example" */
    uint16_t port;
};

struct sl_voters {
    size_t n;                         /* 0: no voters configured */
    struct sl_voter v[SL_VOTERS_MAX]; /* in the order written */
};

/* Parses text (the value of controller.quorum.voters) into *out. Pure: no I/O, no allocation, any thread.
 * Returns 0, or SL_ECONFIG with a one-line message in err (errlen bytes) naming the entry and what is wrong
 * ("id 2 appears twice", "entry 3 'x@h': no port"); *out is then zeroed. */
int sl_voters_parse(const char *text, struct sl_voters *out, char *err, size_t errlen);

/* The voter with this id, or NULL. The pointer is into vs. */
const struct sl_voter *sl_voters_find(const struct sl_voters *vs, int32_t id);

#endif
