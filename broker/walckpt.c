/* walckpt.c - the broker's WAL checkpoints, off the commit thread.
 *
 * SQLite checkpoints a WAL database from inside a COMMIT once the log passes
 * wal_autocheckpoint pages: the committing thread then copies pages into the
 * database and fsyncs it, 10-25 ms at a time on this machine. On the commit
 * thread that stalls every member's messages (others' p99 during a flood
 * went from 2 ms to 35 ms). This thread runs PASSIVE checkpoints on its own
 * connection instead, once the log passes WAL_CKPT_FRAMES (the commit
 * connection's WAL hook tells its size): a passive checkpoint never blocks the
 * writer, which keeps appending to the log meanwhile. But a log that is
 * always being appended to is never wholly copied, so SQLite never starts it
 * again from the beginning: under a flood it grew to 200 MB, every commit
 * extended the file (an fsync with metadata) and others' p99 reached 30 ms.
 * So once the log passes WAL_RESTART_FRAMES, a RESTART checkpoint briefly
 * holds the writer back (the passive runs have copied nearly everything
 * already) and the next commit writes the log from its start. If this thread
 * is not running, the commit thread checkpoints as SQLite would (commit.c),
 * and past 50 000 frames it does in any case. */
#include "internal.h"

#include <stdio.h>
#include <time.h>
#include <sqlite3.h>

#define WALCKPT_MS 10             /* how often the log's size is looked at */
#define WAL_CKPT_FRAMES 1000      /* a passive checkpoint once this many frames are new */
#define WAL_RESTART_FRAMES 16384  /* a restarting one past this (64 MiB of 4 KiB pages) */

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
	/* a connection opens the WAL at its first read: until then every
	 * checkpoint call answers "not in WAL mode" (-1 frames) */
	if (sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) != SQLITE_OK)
		log_warn(_("WAL checkpoints: cannot read %s: %s"), w->path, sqlite3_errmsg(db));
	int copied = 0; /* frames of the current log already copied */
	while (!atomic_load(&w->stop)) {
		struct timespec ts = { 0, WALCKPT_MS * 1000000L };
		nanosleep(&ts, NULL);
		int now = atomic_load(&w->wal_frames);
		if (now < copied) /* the log started again from its beginning */
			copied = 0;
		if (now - copied < WAL_CKPT_FRAMES)
			continue;
		int frames = 0, done = 0;
		int rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &frames, &done);
		if (rc == SQLITE_OK && frames > WAL_RESTART_FRAMES) {
			rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_RESTART, &frames, &done);
			if (rc == SQLITE_OK)
				w->restarts++;
		}
		copied = done > 0 ? done : copied;
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
