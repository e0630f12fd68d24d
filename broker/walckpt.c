/* walckpt.c - the broker's WAL checkpoints, off the commit thread.
 *
 * SQLite checkpoints a WAL database from inside a COMMIT once the log passes
 * wal_autocheckpoint pages: the committing thread then copies pages into the
 * database and fsyncs it, 10-25 ms at a time on this machine. On the commit
 * thread that stalls every member's messages (others' p99 during a flood
 * went from 2 ms to 35 ms). This thread runs PASSIVE checkpoints on its own
 * connection instead, every WALCKPT_MS: a passive checkpoint never blocks the
 * writer, which keeps appending to the log meanwhile. The commit connection
 * keeps a far higher wal_autocheckpoint as a safety net (commit.c), so the
 * log stays bounded even if this thread cannot run. */
#include "internal.h"

#include <stdio.h>
#include <time.h>
#include <sqlite3.h>

#define WALCKPT_MS 20

void *
walckpt_main(void *arg)
{
	walckpt_ctx *w = arg;
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(w->path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		log_error(_("WAL checkpoints: cannot open %s: %s"), w->path,
			  db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 1000);
	while (!atomic_load(&w->stop)) {
		struct timespec ts = { 0, WALCKPT_MS * 1000000L };
		nanosleep(&ts, NULL);
		int frames = 0, done = 0;
		int rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &frames, &done);
		if (rc == SQLITE_OK) {
			if (done > 0)
				w->runs++;
		} else if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) {
			log_warn(_("WAL checkpoint failed: %s"), sqlite3_errmsg(db));
		}
	}
	sqlite3_close(db);
	return NULL;
}
