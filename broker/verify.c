/* verify.c - a verify thread: every Ed25519 check happens here, off the
 * socket loop. There may be several; each takes its jobs in order and hands
 * them on in order, and the commit thread puts them back into the io
 * thread's order by their vseq (commit.c, reorder ring). */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <zmq.h>

void *
verify_main(void *arg)
{
	verify_ctx *v = arg;
	irn_home *h = v->sh->h;
	/* Below the other threads (nice +5, this thread only): on a machine
	 * whose cores the verify threads fill, the serial commit thread got
	 * about half a core, its rounds grew, and every member's message waited
	 * for them. Under a flood keeping 1 000 in flight the others' p99 went
	 * 13.5 -> 10.6 ms (median of five interleaved pairs), the throughput
	 * the same: the verify threads take whatever the others leave. */
	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 5) != 0)
		log_debug("verify thread: setpriority: %s", strerror(errno));
	for (;;) {
		job *j = job_recv(v->in, 0);
		if (j == NULL)
			break;
		if (j->type == J_SUBMIT) {
			int64_t now = irn_now_ms();
			pthread_rwlock_rdlock(&v->sh->roster_lock);
			j->refused = irn_envelope_check(h->roster, h->cfg.network, j->bytes, j->len,
							j->member, now, now, &j->msg, &j->why) != 0;
			pthread_rwlock_unlock(&v->sh->roster_lock);
			/* j->msg->signer points into the roster: never used past here */
			if (j->msg)
				j->msg->signer = NULL;
			if (atomic_fetch_sub(&v->sh->vqueued[v->no], 1) == VERIFY_QMAX / 2)
				job_send(v->credit, job_new(J_CREDIT, "", 0)); /* io feeds more */
		}
		bool stop = j->type == J_STOP;
		job_send(v->out, j);
		if (stop)
			break;
	}
	return NULL;
}
