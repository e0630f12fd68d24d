/* verify.c - a verify thread: every Ed25519 check happens here, off the
 * socket loop. There may be several; each takes its jobs in order and hands
 * them on in order, and the commit thread puts them back into the io
 * thread's order by their vseq (commit.c, reorder ring). */
#include "internal.h"

#include <stdlib.h>
#include <zmq.h>

void *
verify_main(void *arg)
{
	verify_ctx *v = arg;
	irn_home *h = v->sh->h;
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
