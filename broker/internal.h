/* internal.h - the broker's three threads and what they pass each other.
 *
 *   io thread (main)     ZAP, ROUTER socket, sessions, presence, framing,
 *                        error rate limits; the only thread touching ROUTER
 *   verify threads       irn_envelope_check: every signature check, on as
 *                        many threads as verify_threads says (one per CPU)
 *   commit thread        the ledger: duplicates, sequences, group commit,
 *                        receipts, delivery cursors, delivery status
 *
 *   io --submit--> verify --checked--> commit --out--> io
 *
 * Submissions wait in the io thread, in one bounded queue per member, and
 * are handed to the verify thread round-robin over the members, at most
 * PIPELINE_MAX handed on and not yet taken by the commit thread (in the
 * verify threads or waiting for the commit thread): one member's backlog
 * never sits in front of the others', wherever the slowest stage is. The
 * commit thread wakes io (J_CREDIT) when half are taken. One member has at
 * most MEMBER_PIPE_MAX of them in the pipeline (the commit thread wakes io
 * when it is down to half), so a member using its whole window cannot fill
 * the pipeline and make the others' next message wait for it to drain.
 * Each verify thread holds at most VERIFY_QMAX of them (it wakes io when
 * half are checked): the backlog of a member flooding within its rate waits
 * in io's fair queue or in the commit thread's (also fair), never long in a
 * verify thread's FIFO.
 * io numbers every job it hands over (vseq) and gives it to the least
 * loaded verify thread; the commit thread takes them back strictly in that
 * order (a reorder ring), so the commit order is the io thread's order
 * whatever the number of verify threads.
 *   io --hello/ack/query/session-end--> commit
 *
 * Messages are heap-allocated `job`s whose pointers travel over inproc PAIR
 * sockets; the receiver owns the job. Heartbeats and handshakes are served by
 * the io thread and never wait for a signature check or an fsync.
 */
#ifndef IRNET_BROKER_INTERNAL_H
#define IRNET_BROKER_INTERNAL_H
#include "broker.h"
#include "envelope.h"
#include "irnet.pb-c.h"

#include <pthread.h>
#include <stdatomic.h>

typedef enum {
	J_SUBMIT,      /* io -> verify -> commit: an envelope */
	J_HELLO,       /* io -> commit */
	J_ACK,         /* io -> commit */
	J_QUERY,       /* io -> commit: delivery status */
	J_SESSION_END, /* io -> commit: the member's connection closed */
	J_OUT,         /* commit -> io: a packet for a member */
	J_EVENT,       /* io -> commit: a security event to keep */
	J_CREDIT,      /* commit -> io: the pipeline is half empty (feed it again) */
	J_STOP,        /* io -> verify -> commit -> io: drain and stop */
} job_type;

#define PIPELINE_MAX 256               /* submissions handed to the verify threads */
#define VERIFY_MAX 8                  /* verify threads at most */
#define VERIFY_QMAX 16                /* waiting at one verify thread at most */
#define MEMBER_PIPE_MAX 64            /* one member's submissions in the pipeline at most */
#define FQ_MEMBER_MAX 1024            /* waiting per member (a node's window is 1000) */
/* waiting in all: queue_max in irnet.conf (32 768); at it io stops reading */
#define ROUTER_RCVHWM 64              /* read ahead per connection by libzmq meanwhile */
#define FQ_BYTES_MAX (64u << 20)      /* bytes waiting in all */

typedef struct job {
	job_type type;
	char member[IRN_MAX_ID + 1];
	uint64_t gen;              /* session generation the job belongs to */
	int64_t at_ms;             /* when io received it */
	uint64_t vseq;             /* J_SUBMIT/J_STOP: order handed to the verify threads */
	_Atomic unsigned *inpipe;  /* J_SUBMIT: its member's count in the pipeline (io's
				    * session, which lives as long as the broker) */
	uint8_t *bytes;            /* J_SUBMIT: envelope; J_OUT: packed Packet */
	size_t len;
	irn_msg *msg;              /* J_SUBMIT after verify: the checked message */
	irn_refusal why;           /* J_SUBMIT after verify: why refused */
	bool refused;
	bool is_error;             /* J_OUT: an error reply (rate-limited) */
	Irnet__Packet *pkt;        /* J_HELLO/J_ACK/J_QUERY: the decoded packet */
	struct job *next;          /* io's per-member submission queue */
} job;

typedef struct shared {
	irn_home *h;
	const broker_opts *o;
	void *ctx;
	pthread_rwlock_t roster_lock; /* h->roster: commit writes, io/verify read */
	_Atomic uint64_t self_seq;    /* sequence of broker-signed envelopes */
	_Atomic unsigned pipeline;    /* submissions handed to verify and not yet
				       * taken by the commit thread (io's fair
				       * queue feeds at most PIPELINE_MAX) */
	unsigned n_verify;            /* verify threads running */
	struct walckpt_ctx *wal;      /* the WAL checkpointer (walckpt.c) */
	_Atomic unsigned vqueued[VERIFY_MAX]; /* jobs waiting at each verify thread */
} shared;

job *job_new(job_type t, const char *member, uint64_t gen);
void job_free(job *j);
int job_send(void *sock, job *j); /* hands ownership over; frees on failure */
job *job_recv(void *sock, int flags);

/* thread bodies */
void *verify_main(void *arg);   /* arg: struct with sockets, see broker.c */
void *commit_main(void *arg);

typedef struct verify_ctx {
	shared *sh;
	unsigned no;            /* which verify thread (index of vqueued) */
	void *in, *out;         /* in: PAIR from io; out: PUSH to commit */
	void *credit;           /* PUSH to io: J_CREDIT */
} verify_ctx;

/* The WAL checkpointer thread (walckpt.c). */
typedef struct walckpt_ctx {
	char path[1100];        /* ledger.db */
	_Atomic bool stop;
	unsigned long runs;     /* checkpoints that copied frames */
	unsigned long restarts; /* ... of which RESTART (the log starts again) */
	_Atomic int wal_frames; /* the log's size after the last commit (commit.c's WAL hook) */
	_Atomic bool running;   /* the thread is up: the commit thread leaves checkpoints to it */
} walckpt_ctx;
void *walckpt_main(void *arg);

typedef struct commit_ctx {
	shared *sh;
	void *from_verify, *from_io, *to_io;
	void *credit;           /* PUSH to io: J_CREDIT */
	int rc;
} commit_ctx;

/* Build a broker-signed ERROR envelope packet for member (NULL on failure). */
uint8_t *broker_error_packet(shared *sh, const char *member, unsigned code,
			     const uint8_t *msgid, const char *detail, bool exercise, size_t *len);
/* Log a security event and (io thread) pass it to the commit thread to keep.
 * sock: the io thread's socket to the commit thread, or NULL in the commit
 * thread (which stores it itself). */
void broker_event(void *sock, const char *member, const char *reason, const char *fmt, ...)
	IRN_PRINTF(4, 5);
/* Pack a Packet into a new buffer. */
uint8_t *packet_pack(const Irnet__Packet *p, size_t *len);
#endif
