/* irnet-bench - the benchmark of issue 7.
 *
 * Starts real `irnet-broker run` processes (homes made with the library,
 * roster signed like `irnet-keys roster-sign`), drives them over real CURVE
 * DEALER sockets with real signed envelopes, and prints one table:
 *
 *   1. baselines on this machine: one core's Ed25519 verify and sign rate,
 *      SQLite batched fsynced commits (WAL, synchronous=FULL) and fdatasync
 *      latency on the filesystem of the broker's home;
 *   2. ingest: N concurrent senders, a window of W submissions in flight each;
 *   3. end to end: one sender -> broker -> one verifying, acknowledging receiver;
 *   4. submit->receipt latency at a fixed offered load;
 *   5. the same while one extra sender floods;
 *   6. `irnet-broker ledger verify` on the ledger the runs produced;
 *   8. scale: thousands of idle members on one broker (memory per member,
 *      heartbeat cost, reconnection of all after a broker restart).
 *
 * Only the wire protocol (docs/PROTOCOL.md) and the broker binary are used,
 * never the broker's internals. Everything is on 127.0.0.1; every loop is
 * bounded in time; the broker is stopped at the end (and on SIGINT/SIGTERM,
 * and by PR_SET_PDEATHSIG if the bench dies).
 */
#define _GNU_SOURCE /* ppoll */
#include "crypto.h"
#include "envelope.h"
#include "home.h"
#include "keys.h"
#include "ledger.h"
#include "roster.h"
#include "wire.h"
#include "merkle.h"
#include "irnet.pb-c.h"
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <limits.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>
#include <zmq.h>

#define NET "benchnet"
#define MAX_NS 16

/* ------------------------------------------------------------------ options */

static struct {
	const char *broker;
	char node[1200];         /* irnet-node: the real-node end-to-end row ("": skipped) */
	char dir[1024];
	bool quick, keep, verify_receipts;
	int ns[MAX_NS], n_ns;
	int no_hello_n;         /* extra ingest run at this N without Hello (0: none) */
	int overload_n;         /* extra ingest run: N senders, each 1.5 windows (-1: the largest N
				 * of --senders if >= 1000; 0: none) */
	int repeat_n;           /* ingest again at this N after the other runs (0: none) */
	int window, total, total_n1;
	int runs;               /* each ingest configuration this many times (median kept) */
	bool window_set;       /* --window given: no extra N = 1 run with the node's window */
	int lat_rate, lat_senders;
	double lat_seconds;
	int flood_rate;         /* flooder's offered load, msg/s (open loop) */
	char flood_limits[128]; /* member_rate values for the flood runs ("default": none) */
	int member_rate;        /* member_rate written for the capacity runs (0: broker default) */
	int e2e_total;
	int scale_n;            /* members in the scale phase (0: none) */
	long verify_entries;    /* grow home A's ledger to this many entries before verifying it */
	double base_seconds;
	const char *only;       /* comma list of phases: base,ingest,e2e,lat,flood,verify */
	const char *log_level;  /* broker log level in irnet.conf */
	const char *perf_dir;   /* perf record -p BROKER per phase into this dir */
	const char *nats;       /* irnet-bench-nats, for the peer baseline (NULL: none) */
	const char *label;      /* printed in the header, e.g. the source revision */
} opt;

static bool
phase_on(const char *name)
{
	if (opt.only == NULL)
		return true;
	char buf[256];
	snprintf(buf, sizeof buf, ",%s,", opt.only);
	char pat[64];
	snprintf(pat, sizeof pat, ",%s,", name);
	return strstr(buf, pat) != NULL;
}

/* ------------------------------------------------------------------ utils */

static volatile sig_atomic_t stop_flag;
static void on_signal(int s) { (void)s; stop_flag = 1; }

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
self_cpu(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void IRN_PRINTF(1, 2)
note(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "irnet-bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void IRN_PRINTF(1, 2)
die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "irnet-bench: fatal: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* Machine-wide CPU time in seconds from /proc/stat: busy (user, nice,
 * system) and steal (taken by the hypervisor). Other processes on
 * this machine (other sessions' tests) show up as busy time that is neither
 * the broker's nor the bench's: every phase reports it. */
static void
sys_cpu(double *busy, double *steal)
{
	unsigned long long v[10] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	if (f) {
		if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
			   &v[4], &v[5], &v[6], &v[7]) != 8)
			memset(v, 0, sizeof v);
		fclose(f);
	}
	double tck = (double)sysconf(_SC_CLK_TCK);
	/* user + nice + system: irq and softirq time (loopback TCP of our own
	 * traffic lands there) is nobody's, steal is not the guest's */
	*busy = (double)(v[0] + v[1] + v[2]) / tck;
	*steal = (double)v[7] / tck;
}

typedef struct cpu_mark {
	double t, broker, self, busy, steal;
} cpu_mark;

static void
cpu_mark_take(cpu_mark *m, double broker)
{
	m->t = now_s();
	m->broker = broker;
	m->self = self_cpu();
	sys_cpu(&m->busy, &m->steal);
}

/* Cores used by other processes between two marks (and steal). */
static double
others_cores(const cpu_mark *a, const cpu_mark *b, double *steal)
{
	double dt = b->t - a->t;
	if (steal)
		*steal = 0;
	if (dt <= 0)
		return 0;
	double o = (b->busy - a->busy) - (b->broker - a->broker) - (b->self - a->self);
	if (steal)
		*steal = (b->steal - a->steal) / dt;
	return o > 0 ? o / dt : 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array. */
static double
pct(const double *v, size_t n, double p)
{
	if (n == 0)
		return NAN;
	size_t k = (size_t)ceil(p / 100.0 * (double)n);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return v[k - 1];
}

static int
free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t l = sizeof a;
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &l) != 0)
		die("cannot find a free port: %s", strerror(errno));
	close(fd);
	return ntohs(a.sin_port);
}

/* ------------------------------------------------------------------ results */

typedef struct row {
	char sect[8], what[160], value[160], ratio[96], target[64], verdict[24];
} row;
static row rows[64];
static int n_rows;

static void IRN_PRINTF(2, 3)
add_row(const char *sect, const char *fmt, ...)
{
	if (n_rows >= 64)
		return;
	row *r = &rows[n_rows++];
	memset(r, 0, sizeof *r);
	snprintf(r->sect, sizeof r->sect, "%s", sect);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->what, sizeof r->what, fmt, ap);
	va_end(ap);
}

static row *last_row(void) { return &rows[n_rows - 1]; }

#define SETF(field, ...) snprintf(last_row()->field, sizeof last_row()->field, __VA_ARGS__)

/* ------------------------------------------------------------------ members, roster, homes */

typedef struct member {
	char id[IRN_MAX_ID + 1];
	irn_keys *k;
	uint64_t next_seq;
	unsigned role;
} member;

static irn_keys *authority;
static member *ops;     /* operators: senders, the flooder, the e2e sender */
static int n_ops;
static member coord;    /* coordinator: the e2e receiver */
static irn_roster *roster; /* parsed, for the receiver's checks */

typedef struct bhome {
	char dir[1100];
	char id[IRN_MAX_ID + 1];
	char endpoint[64];
	uint8_t sign_pk[IRN_PK_LEN], box_pk[IRN_PK_LEN];
	char conf[4096];   /* irnet.conf as irn_home_create wrote it */
	size_t conf_len;
} bhome;
/* A: ingest (its ledger grows run after run), the repeats, ledger verify.
 * B: end to end (fresh: the receiver starts at delivered_upto 0).
 * C: latency and flood (fresh, so they do not depend on what ran before). */
static bhome home_a, home_b, home_c;

/* A new irnet home DIR/name for member id (irn_home_create: config and
 * fresh keys), listening on listen (a broker) or attached to broker
 * (a node). Returns the keys irn_home_create made there. */
static irn_keys *
home_new(bhome *bh, const char *name, const char *id, const char *listen, const char *broker,
	 const char *broker_id)
{
	snprintf(bh->dir, sizeof bh->dir, "%s/%s", opt.dir, name);
	snprintf(bh->id, sizeof bh->id, "%s", id);
	irn_config c;
	irn_config_defaults(&c);
	snprintf(c.id, sizeof c.id, "%s", id);
	snprintf(c.network, sizeof c.network, "%s", NET);
	if (listen)
		snprintf(c.listen, sizeof c.listen, "%s", listen);
	if (broker) {
		snprintf(c.broker, sizeof c.broker, "%s", broker);
		snprintf(c.broker_id, sizeof c.broker_id, "%s", broker_id);
	}
	if (irn_log_parse_level(opt.log_level, &c.log_level) != 0)
		die("bad --log-level %s", opt.log_level);
	irn_err e = irn_home_create(bh->dir, &c, authority->sign_pk);
	if (e != IRN_OK)
		die("irn_home_create %s: %s", bh->dir, irn_strerror(e));
	char kd[1300];
	snprintf(kd, sizeof kd, "%s/keys", bh->dir);
	irn_keys *k = NULL;
	if ((e = irn_keys_load(kd, &k)) != IRN_OK)
		die("cannot load the keys in %s: %s", kd, irn_strerror(e));
	return k;
}

static void
home_make(bhome *bh, const char *name, const char *id)
{
	snprintf(bh->endpoint, sizeof bh->endpoint, "tcp://127.0.0.1:%d", free_port());
	irn_keys *k = home_new(bh, name, id, bh->endpoint, NULL, NULL);
	memcpy(bh->sign_pk, k->sign_pk, IRN_PK_LEN);
	memcpy(bh->box_pk, k->box_pk, IRN_PK_LEN);
	irn_keys_free(&k);
	char cp[1200];
	snprintf(cp, sizeof cp, "%s/irnet.conf", bh->dir);
	int fd = open(cp, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, bh->conf, sizeof bh->conf - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		die("cannot read %s", cp);
	bh->conf_len = (size_t)n;
}

/* The broker's per-member submission limit (member_rate, in newer brokers):
 * appended to irnet.conf before each start; 0 leaves the broker's default.
 * A broker that does not know the key only warns. */
static void
home_config(const bhome *bh, int member_rate)
{
	char buf[4300], cp[1200];
	memcpy(buf, bh->conf, bh->conf_len);
	size_t n = bh->conf_len;
	if (member_rate > 0)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "member_rate = %d\n", member_rate);
	snprintf(cp, sizeof cp, "%s/irnet.conf", bh->dir);
	if (irn_write_file(cp, (const uint8_t *)buf, n, 0600) != IRN_OK)
		die("cannot write %s", cp);
}

/* Build and sign the roster the way `irnet-keys roster-sign` does. */
static uint8_t *
roster_sign(size_t *outlen)
{
	size_t n = (size_t)n_ops + 4;
	Irnet__Member *mem = calloc(n, sizeof *mem);
	Irnet__Member **mp = calloc(n, sizeof *mp);
	uint32_t *roles = calloc(n, sizeof *roles);
	if (!mem || !mp || !roles)
		die("out of memory");
	int64_t now = irn_now_ms();
	for (size_t i = 0; i < n; i++) {
		irnet__member__init(&mem[i]);
		mp[i] = &mem[i];
		const char *id;
		const uint8_t *spk, *bpk;
		if (i < (size_t)n_ops) {
			id = ops[i].id;
			spk = ops[i].k->sign_pk;
			bpk = ops[i].k->box_pk;
			roles[i] = IRNET__ROLE__ROLE_OPERATOR;
		} else if (i == (size_t)n_ops) {
			id = coord.id;
			spk = coord.k->sign_pk;
			bpk = coord.k->box_pk;
			roles[i] = IRNET__ROLE__ROLE_COORDINATOR;
		} else {
			bhome *bh = i == (size_t)n_ops + 1 ? &home_a
				  : i == (size_t)n_ops + 2 ? &home_b : &home_c;
			id = bh->id;
			spk = bh->sign_pk;
			bpk = bh->box_pk;
			roles[i] = IRNET__ROLE__ROLE_BROKER;
			mem[i].endpoint = bh->endpoint;
		}
		mem[i].id = (char *)id;
		mem[i].display_name = (char *)id;
		mem[i].organisation = (char *)"Sở Thông tin và Truyền thông (benchmark)";
		mem[i].roles = &roles[i];
		mem[i].n_roles = 1;
		mem[i].sign_pk = (ProtobufCBinaryData){ IRN_PK_LEN, (uint8_t *)spk };
		mem[i].transport_pk = (ProtobufCBinaryData){ IRN_PK_LEN, (uint8_t *)bpk };
		mem[i].valid_from_ms = now - 3600 * 1000LL;
		mem[i].valid_until_ms = now + 2 * 86400 * 1000LL;
		mem[i].revoked = false;
	}
	Irnet__RosterBody rb = IRNET__ROSTER_BODY__INIT;
	rb.network = (char *)NET;
	rb.version = 1;
	rb.issued_ms = now - 60000;
	rb.expires_ms = now + 30 * 86400 * 1000LL;
	rb.authority_pk = (ProtobufCBinaryData){ IRN_PK_LEN, authority->sign_pk };
	rb.members = mp;
	rb.n_members = n;
	size_t bl = irnet__roster_body__get_packed_size(&rb);
	uint8_t *body = malloc(bl);
	if (!body)
		die("out of memory");
	irnet__roster_body__pack(&rb, body);
	uint8_t sig[IRN_SIG_LEN];
	if (irn_domain_sign(sig, IRN_DOMAIN_ROSTER, NET, body, bl, authority->sign_sk) != IRN_OK)
		die("cannot sign the roster");
	Irnet__SignedRoster sr = IRNET__SIGNED_ROSTER__INIT;
	sr.body = (ProtobufCBinaryData){ bl, body };
	sr.signature = (ProtobufCBinaryData){ IRN_SIG_LEN, sig };
	size_t sl = irnet__signed_roster__get_packed_size(&sr);
	uint8_t *sb = malloc(sl);
	if (!sb)
		die("out of memory");
	irnet__signed_roster__pack(&sr, sb);
	free(body);
	free(mem);
	free(mp);
	free(roles);
	*outlen = sl;
	return sb;
}

static void
home_accept(bhome *bh, const uint8_t *r, size_t rl)
{
	irn_home *h = NULL;
	if (irn_home_open(bh->dir, false, false, &h) != IRN_OK)
		die("cannot open %s", bh->dir);
	char why[256];
	irn_err e = irn_home_accept_roster(h, r, rl, why, sizeof why);
	irn_home_close(&h);
	if (e != IRN_OK)
		die("%s: %s", bh->dir, why);
}

static bhome node_snd, node_rcv; /* irnet-node homes: sender, coordinator (broker B) */

/* An irnet-node home for member m, attached to broker B; m takes the keys
 * irn_home_create generated there. */
static void
node_home(bhome *nh, const char *name, member *m)
{
	irn_keys *k = home_new(nh, name, m->id, NULL, home_b.endpoint, home_b.id);
	irn_keys_free(&m->k);
	m->k = k;
}

static void
setup(int max_n)
{
	double t0 = now_s();
	if (irn_keys_generate(&authority) != IRN_OK)
		die("keygen");
	n_ops = max_n + 3; /* senders, the flooder, the end-to-end sender, the real-node sender */
	ops = calloc((size_t)n_ops, sizeof *ops);
	if (!ops)
		die("out of memory");
	for (int i = 0; i < n_ops; i++) {
		snprintf(ops[i].id, sizeof ops[i].id, "%s/op-%04d", NET, i);
		if (irn_keys_generate(&ops[i].k) != IRN_OK)
			die("keygen");
		ops[i].next_seq = 1;
		ops[i].role = IRNET__ROLE__ROLE_OPERATOR;
	}
	snprintf(coord.id, sizeof coord.id, "%s/coordinator", NET);
	if (irn_keys_generate(&coord.k) != IRN_OK)
		die("keygen");
	coord.next_seq = 1;
	coord.role = IRNET__ROLE__ROLE_COORDINATOR;
	home_make(&home_a, "broker-a", NET "/broker-a");
	home_make(&home_b, "broker-b", NET "/broker-b");
	home_make(&home_c, "broker-c", NET "/broker-c");
	/* the end-to-end sender and the coordinator also get irnet-node homes
	 * (their keys are the homes' own), for the real-node row */
	node_home(&node_snd, "node-sender", &ops[n_ops - 1]);
	node_home(&node_rcv, "node-coordinator", &coord);
	size_t rl;
	uint8_t *r = roster_sign(&rl);
	home_accept(&home_a, r, rl);
	home_accept(&home_b, r, rl);
	home_accept(&home_c, r, rl);
	home_accept(&node_snd, r, rl);
	home_accept(&node_rcv, r, rl);
	uint8_t np[IRN_PK_LEN];
	if (irn_roster_parse(r, rl, authority->sign_pk, NET, irn_now_ms(), &roster, np) != IRN_OK)
		die("the roster we signed does not parse");
	free(r);
	note("setup: %d members, three broker homes in %s (%.1f s)", n_ops + 4, opt.dir, now_s() - t0);
}

/* ------------------------------------------------------------------ the broker process */

typedef struct broker_proc {
	pid_t pid;
	int outfd;
	double cpu0, t0;
	pid_t perf;
} broker_proc;
static pid_t live_broker = 0;
static pid_t live_nodes[2]; /* irnet-node daemons of the real-node end-to-end row */

static void
kill_live(void)
{
	for (int i = 0; i < 2; i++)
		if (live_nodes[i] > 0) {
			kill(live_nodes[i], SIGKILL);
			waitpid(live_nodes[i], NULL, 0);
			live_nodes[i] = 0;
		}
	if (live_broker > 0) {
		kill(live_broker, SIGKILL);
		waitpid(live_broker, NULL, 0);
		live_broker = 0;
	}
}


static void
perf_start(broker_proc *b, const char *phase)
{
	b->perf = 0;
	if (!opt.perf_dir)
		return;
	char out[1200], pid[32];
	snprintf(out, sizeof out, "%s/%s.perf.data", opt.perf_dir, phase);
	snprintf(pid, sizeof pid, "%d", (int)b->pid);
	pid_t p = fork();
	if (p == 0) {
		int dn = open("/dev/null", O_RDWR);
		dup2(dn, 1);
		dup2(dn, 2);
		execlp("perf", "perf", "record", "-q", "-F", "997", "-e", "cpu-clock",
		       "--call-graph", "dwarf,16384", "-p", pid, "-o", out, (char *)NULL);
		_exit(127);
	}
	b->perf = p;
	usleep(300000); /* let perf attach */
}

static void
perf_stop(broker_proc *b)
{
	if (b->perf > 0) {
		kill(b->perf, SIGINT);
		waitpid(b->perf, NULL, 0);
		b->perf = 0;
	}
}

/* Start `BIN --home HOME run` as a child (stdin /dev/null, stdout to a pipe
 * returned in *outfd, stderr appended to logp; killed if the bench dies)
 * and wait up to 15 s for its READY line. Returns its pid, or -1 if it did
 * not become ready. */
static pid_t
daemon_spawn(const char *bin, const char *home, const char *logp, bool unsafe_nofsync, int *outfd)
{
	int pfd[2];
	if (pipe(pfd) != 0)
		die("pipe");
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		int lf = open(logp, O_WRONLY | O_CREAT | O_APPEND, 0600);
		int dn = open("/dev/null", O_RDONLY);
		dup2(dn, 0);
		dup2(pfd[1], 1);
		if (lf >= 0)
			dup2(lf, 2);
		close(pfd[0]);
		if (unsafe_nofsync)
			setenv("IRNET_UNSAFE_NO_FSYNC", "1", 1);
		execl(bin, bin, "--home", home, "run", (char *)NULL);
		fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	*outfd = pfd[0];
	char buf[512];
	size_t got = 0;
	double dl = now_s() + 15;
	while (now_s() < dl && !stop_flag) {
		struct pollfd p = { pfd[0], POLLIN, 0 };
		if (poll(&p, 1, 200) > 0) {
			ssize_t n = read(pfd[0], buf + got, sizeof buf - 1 - got);
			if (n <= 0)
				break;
			got += (size_t)n;
			buf[got] = 0;
			if (strstr(buf, "READY"))
				return pid;
		}
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(pfd[0]);
	return -1;
}

static bool nofsync_control; /* the broker of the next start runs with fsync off */
static bool overload_run;    /* the next ingest run is the overload row (--overload) */

static void
broker_start(broker_proc *b, const bhome *bh, const char *phase, int member_rate)
{
	if (nofsync_control)
		note("control run: the broker's ledger is NOT fsynced (IRNET_UNSAFE_NO_FSYNC=1)");
	home_config(bh, member_rate);
	char logp[1200];
	snprintf(logp, sizeof logp, "%s/broker-%s.log", opt.dir, phase);
	pid_t pid = daemon_spawn(opt.broker, bh->dir, logp, nofsync_control, &b->outfd);
	if (pid < 0)
		die("the broker did not become ready (see %s)", logp);
	live_broker = pid;
	b->pid = pid;
	perf_start(b, phase);
	b->cpu0 = proc_cpu(pid);
	b->t0 = now_s();
}

static double
broker_cpu(const broker_proc *b)
{
	return proc_cpu(b->pid);
}

static void
broker_stop(broker_proc *b)
{
	perf_stop(b);
	kill(b->pid, SIGTERM);
	int st;
	for (int i = 0; i < 100; i++) {
		if (waitpid(b->pid, &st, WNOHANG) == b->pid) {
			live_broker = 0;
			close(b->outfd);
			return;
		}
		usleep(100000);
	}
	note("broker %d did not stop in 10 s: killed", (int)b->pid);
	kill_live();
	close(b->outfd);
}

static long long
ledger_q(const bhome *bh, const char *sql)
{
	char p[1200];
	snprintf(p, sizeof p, "%s/ledger.db", bh->dir);
	sqlite3 *db;
	long long v = -1;
	if (sqlite3_open_v2(p, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
		sqlite3_busy_timeout(db, 5000);
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
			if (sqlite3_step(st) == SQLITE_ROW)
				v = sqlite3_column_int64(st, 0);
			sqlite3_finalize(st);
		}
	}
	sqlite3_close(db);
	return v;
}

/* The broker takes each sender's sequence strictly in order (PROTOCOL.md
 * §10): start a member's messages at the number that broker expects next. */
static void
seq_from(const bhome *bh, member *m)
{
	char q[512];
	snprintf(q, sizeof q, "SELECT last FROM sequences WHERE sender = '%s'", m->id);
	long long v = ledger_q(bh, q);
	if (v < 0) {
		snprintf(q, sizeof q, "SELECT coalesce(max(sequence), 0) FROM ledger WHERE type = 2"
			 " AND sender = '%s'", m->id);
		v = ledger_q(bh, q);
	}
	m->next_seq = (uint64_t)(v > 0 ? v : 0) + 1;
}

/* ------------------------------------------------------------------ messages */

typedef struct msg {
	uint8_t *pkt;      /* packed Packet{submit} */
	size_t len;
	uint8_t id[IRN_MSGID_LEN];
	uint64_t seq;      /* the sender's sequence number */
	double t_sched, t_sent, t_done, t_deliv;
	int status;        /* 0 unsent, 1 sent, 2 receipt, 3 error */
} msg;

#define TEXT_FMT \
	"Báo cáo tiến độ #%llu của %s: đã cô lập máy chủ bị nhiễm, đang khôi phục dữ liệu."

/* Sign m's next message (a note to role:coordinator) into out->pkt; the
 * envelope itself is returned in *env (the caller frees it). */
static void
sign_msg(member *m, msg *out, uint8_t **env, size_t *el)
{
	Irnet__Header h;
	uint8_t id[IRN_MSGID_LEN];
	uint32_t to[1] = { IRNET__ROLE__ROLE_COORDINATOR };
	uint64_t seq = m->next_seq++;
	irn_header_fill(&h, id, m->id, IRNET__KIND__KIND_NOTE, seq, true);
	h.to_roles = to;
	h.n_to_roles = 1;
	char text[256];
	int tl = snprintf(text, sizeof text, TEXT_FMT, (unsigned long long)seq, m->id);
	*env = NULL;
	*el = 0;
	if (irn_envelope_build(m->k, NET, &h, (const uint8_t *)text, (size_t)tl, env, el) != IRN_OK)
		die("irn_envelope_build");
	Irnet__Packet p = IRNET__PACKET__INIT;
	p.p_case = IRNET__PACKET__P_SUBMIT;
	p.submit = (ProtobufCBinaryData){ *el, *env };
	out->len = irnet__packet__get_packed_size(&p);
	out->pkt = malloc(out->len);
	if (!out->pkt)
		die("out of memory");
	irnet__packet__pack(&p, out->pkt);
	memcpy(out->id, id, IRN_MSGID_LEN);
	out->seq = seq;
}

/* Sign count envelopes from m, before any clock starts. */
static void
build_msgs(member *m, msg *out, int count)
{
	for (int i = 0; i < count; i++) {
		uint8_t *env;
		size_t el;
		memset(&out[i], 0, sizeof out[i]);
		sign_msg(m, &out[i], &env, &el);
		free(env);
	}
}

static void
free_msgs(msg *v, int n)
{
	for (int i = 0; v && i < n; i++)
		free(v[i].pkt);
	free(v);
}

/* ------------------------------------------------------------------ client connections */

enum { C_SENDER, C_FLOOD, C_RECEIVER };

typedef struct conn {
	void *s;
	member *m;
	int kind;
	bool hello, welcomed;
	uint64_t last_sequence;
	msg *msgs;
	int n, next, front, inflight, window;
	int receipts, errors, rate_limited;
	long sent_total;          /* flooder: everything sent, the pool cycled */
	unsigned err_codes[32];
	/* receiver */
	uint64_t last_index, delivered, gaps, refused, verify_fail;
	double t_last;
	msg *dmsgs;        /* the sender's messages (t_deliv by sequence), or NULL */
	int dn;
	uint64_t dseq0;    /* sequence of dmsgs[0] */
	_Atomic uint64_t progress; /* delivered + refused, for another thread */
	/* node-like ends (end to end): the sender signs at send time and both
	 * keep a ledger, one fsynced transaction per burst, as irnet-node does */
	irn_ledger *ledger;
	bool in_tx;
	int *burst, n_burst; /* receiver: dmsgs stored in the open transaction */
	uint64_t stored;
} conn;

typedef struct run {
	void *ctx;
	conn *c;
	int n;
	zmq_pollitem_t *items;
	const bhome *bh;
	double t_first_send, t_last_done;
	long unmatched;
	long done; /* receipts and errors that answered a submission */
} run;

static void
run_open(run *r, const bhome *bh, int n)
{
	memset(r, 0, sizeof *r);
	r->bh = bh;
	r->ctx = zmq_ctx_new();
	zmq_ctx_set(r->ctx, ZMQ_MAX_SOCKETS, 16384);
	r->c = calloc((size_t)n, sizeof *r->c);
	r->items = calloc((size_t)n, sizeof *r->items);
	if (!r->c || !r->items)
		die("out of memory");
	r->n = n;
}

static void
conn_connect(run *r, int i, member *m, int kind, bool hello, uint64_t delivered_upto)
{
	conn *c = &r->c[i];
	c->m = m;
	c->kind = kind;
	c->hello = hello;
	c->s = zmq_socket(r->ctx, ZMQ_DEALER);
	if (!c->s)
		die("zmq_socket: %s", zmq_strerror(errno));
	int zero = 0, hwm = 200000;
	zmq_setsockopt(c->s, ZMQ_LINGER, &zero, sizeof zero);
	zmq_setsockopt(c->s, ZMQ_SNDHWM, &hwm, sizeof hwm);
	zmq_setsockopt(c->s, ZMQ_RCVHWM, &hwm, sizeof hwm);
	if (irn_curve_client(c->s, m->k, r->bh->box_pk) != 0)
		die("irn_curve_client");
	if (zmq_connect(c->s, r->bh->endpoint) != 0)
		die("zmq_connect: %s", zmq_strerror(errno));
	r->items[i] = (zmq_pollitem_t){ c->s, 0, ZMQ_POLLIN, 0 };
	if (hello) {
		Irnet__Hello hl = IRNET__HELLO__INIT;
		hl.version = IRN_PROTOCOL_VERSION;
		hl.roster_version = roster->version;
		hl.delivered_upto = delivered_upto;
		Irnet__Packet p = IRNET__PACKET__INIT;
		p.p_case = IRNET__PACKET__P_HELLO;
		p.hello = &hl;
		if (irn_packet_send(c->s, NULL, 0, &p) != 0)
			die("hello: %s", zmq_strerror(errno));
	}
}

static void
run_close(run *r)
{
	for (int i = 0; i < r->n; i++)
		if (r->c[i].s)
			zmq_close(r->c[i].s);
	zmq_ctx_term(r->ctx);
	free(r->c);
	free(r->items);
	memset(r, 0, sizeof *r);
}

static void
send_ack(conn *c)
{
	Irnet__Ack a = IRNET__ACK__INIT;
	a.upto = c->last_index;
	Irnet__Packet p = IRNET__PACKET__INIT;
	p.p_case = IRNET__PACKET__P_ACK;
	p.ack = &a;
	(void)irn_packet_send(c->s, NULL, 0, &p);
}

/* A receipt or error envelope from the broker: which submission it answers. */
static void
handle_reply(run *r, conn *c, const ProtobufCBinaryData *d, bool is_receipt, double t)
{
	/* a receipt is batch-signed (common/merkle.h): it names the message
	 * itself; an error is an envelope that names it in in_reply_to */
	Irnet__Envelope *env = is_receipt ? NULL : irnet__envelope__unpack(NULL, d->len, d->data);
	Irnet__Body *b = env ? irnet__body__unpack(NULL, env->body.len, env->body.data) : NULL;
	Irnet__Receipt *rc = NULL;
	const uint8_t *irt = NULL;
	if (b && b->header && b->header->has_in_reply_to && b->header->in_reply_to.len == IRN_MSGID_LEN)
		irt = b->header->in_reply_to.data;
	if (is_receipt && irn_receipt_decode(d->data, d->len, &rc) == NULL)
		irt = rc->message_id.data;
	if (is_receipt && opt.verify_receipts) {
		static irn_root_cache *roots;
		irn_refusal why;
		int64_t nw = irn_now_ms();
		Irnet__Receipt *vr = NULL;
		if (roots == NULL)
			roots = irn_root_cache_new(64);
		if (irn_receipt_check(roster, NET, NULL, d->data, d->len, nw, nw, roots, &vr, &why) !=
		    IRN_RECEIPT_OK)
			c->verify_fail++;
		if (vr)
			irnet__receipt__free_unpacked(vr, NULL);
	}
	unsigned code = 0;
	if (!is_receipt && b) {
		Irnet__ErrorReply *er = irnet__error_reply__unpack(NULL, b->payload.len, b->payload.data);
		if (er) {
			code = er->code;
			c->err_codes[er->code < 32 ? er->code : 0]++;
			irnet__error_reply__free_unpacked(er, NULL);
		}
	}
	int hit = -1;
	if (c->kind == C_FLOOD || (!irt && code == IRNET__ERROR_CODE__ERR_RATE_LIMITED)) {
		/* the flooder cycles its pool: only count. A rate-limit notice
		 * names no message: the refused ones are simply never answered. */
		if (is_receipt)
			c->receipts++;
		else if (code == IRNET__ERROR_CODE__ERR_RATE_LIMITED)
			c->rate_limited++;
		else
			c->errors++;
		goto out;
	}
	if (irt) {
		for (int i = c->front; i < c->next; i++)
			if (c->msgs[i].status == 1 && memcmp(c->msgs[i].id, irt, IRN_MSGID_LEN) == 0) {
				hit = i;
				break;
			}
	} else if (!is_receipt && c->front < c->next) {
		hit = c->front; /* an error without a message id: assume the oldest */
	}
	if (hit < 0) {
		r->unmatched++;
	} else {
		c->msgs[hit].status = is_receipt ? 2 : 3;
		c->msgs[hit].t_done = t;
		c->inflight--;
		r->done++;
		if (is_receipt)
			c->receipts++;
		else
			c->errors++;
		r->t_last_done = t;
		while (c->front < c->next && c->msgs[c->front].status >= 2)
			c->front++;
	}
out:
	if (rc)
		irnet__receipt__free_unpacked(rc, NULL);
	if (b)
		irnet__body__free_unpacked(b, NULL);
	if (env)
		irnet__envelope__free_unpacked(env, NULL);
}

static void
handle_deliver(run *r, conn *c, const Irnet__Deliver *d, double t)
{
	if (d->prev_index != c->last_index)
		c->gaps++;
	if (d->ledger_index <= c->last_index)
		return;
	irn_msg *m = NULL;
	irn_refusal why;
	int64_t nw = irn_now_ms();
	if (irn_envelope_check(roster, NET, d->envelope.data, d->envelope.len, NULL, nw, nw, &m,
			       &why) != 0) {
		c->refused++;
	} else {
		c->delivered++;
		c->t_last = t;
		if (c->ledger) { /* keep it, as the node does: one transaction per burst */
			if (!c->in_tx && irn_ledger_begin(c->ledger) != IRN_OK)
				die("receiver ledger: cannot begin");
			c->in_tx = true;
			irn_entry ent = { .type = IRN_ENTRY_MESSAGE, .accepted_ms = nw,
					  .roster_version = roster->version, .sender = m->h->sender,
					  .message_id = m->h->message_id.data, .kind = m->h->kind,
					  .sequence = m->h->sequence, .data = d->envelope.data,
					  .len = d->envelope.len, .receipt = d->receipt.data,
					  .rlen = d->receipt.len, .to_roles = IRN_ROLE_BIT(coord.role),
					  .remote_index = d->ledger_index };
			uint64_t idx;
			if (irn_ledger_append(c->ledger, &ent, &idx) != IRN_OK)
				die("receiver ledger: cannot append");
			c->stored++;
		}
		uint64_t k = m->h->sequence - c->dseq0; /* latency of this one */
		if (c->dmsgs && m->h->sequence >= c->dseq0 && k < (uint64_t)c->dn &&
		    c->dmsgs[k].t_deliv == 0) {
			if (c->ledger)
				c->burst[c->n_burst++] = (int)k; /* delivered once committed */
			else
				c->dmsgs[k].t_deliv = t;
		}
	}
	irn_msg_free(&m);
	c->last_index = d->ledger_index;
	(void)r;
}

/* Read everything waiting on connection i. */
static void
drain(run *r, int i)
{
	conn *c = &r->c[i];
	bool delivered = false;
	for (;;) {
		zmq_msg_t zm;
		zmq_msg_init(&zm);
		if (zmq_msg_recv(&zm, c->s, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&zm);
			break;
		}
		double t = now_s();
		Irnet__Packet *p = irnet__packet__unpack(NULL, zmq_msg_size(&zm), zmq_msg_data(&zm));
		zmq_msg_close(&zm);
		if (!p) {
			r->unmatched++;
			continue;
		}
		switch (p->p_case) {
		case IRNET__PACKET__P_WELCOME:
			c->welcomed = true;
			c->last_sequence = p->welcome->last_sequence;
			break;
		case IRNET__PACKET__P_RECEIPT:
			handle_reply(r, c, &p->receipt, true, t);
			break;
		case IRNET__PACKET__P_ERROR:
			handle_reply(r, c, &p->error, false, t);
			break;
		case IRNET__PACKET__P_DELIVER:
			handle_deliver(r, c, p->deliver, t);
			delivered = true;
			break;
		default:
			r->unmatched++;
			break;
		}
		irnet__packet__free_unpacked(p, NULL);
	}
	if (c->in_tx) { /* stored before acknowledged, like the node */
		if (irn_ledger_commit(c->ledger) != IRN_OK)
			die("receiver ledger: cannot commit");
		c->in_tx = false;
		double t = now_s();
		for (int k = 0; k < c->n_burst; k++)
			c->dmsgs[c->burst[k]].t_deliv = t;
		c->n_burst = 0;
		c->t_last = t;
	}
	if (delivered)
		send_ack(c);
	atomic_store(&c->progress, c->delivered + c->refused);
}

static int
poll_all(run *r, int timeout_ms)
{
	int rc = zmq_poll(r->items, r->n, timeout_ms);
	if (rc <= 0)
		return rc;
	for (int i = 0; i < r->n; i++)
		if (r->items[i].revents & ZMQ_POLLIN)
			drain(r, i);
	return rc;
}

/* Wait at most timeout_s for input and read it, with microsecond precision
 * (zmq_poll counts whole milliseconds: an open-loop schedule would send up
 * to 1 ms late and the latency would include the bench's own lateness).
 * ZMQ_FD signals only that the socket's state may have changed, so every
 * socket's ZMQ_EVENTS is read before sleeping and after waking. */
static void
poll_all_precise(run *r, double timeout_s)
{
	struct pollfd pf[64];
	int n = r->n < 64 ? r->n : 64;
	bool ready = false;
	for (int i = 0; i < n; i++) {
		int ev = 0, fd = -1;
		size_t l = sizeof ev, fl = sizeof fd;
		zmq_getsockopt(r->c[i].s, ZMQ_EVENTS, &ev, &l);
		if (ev & ZMQ_POLLIN) {
			drain(r, i);
			ready = true;
		}
		zmq_getsockopt(r->c[i].s, ZMQ_FD, &fd, &fl);
		pf[i] = (struct pollfd){ .fd = fd, .events = POLLIN };
	}
	if (ready || timeout_s <= 0)
		return;
	struct timespec ts = { (time_t)timeout_s, (long)((timeout_s - (double)(time_t)timeout_s) * 1e9) };
	if (ppoll(pf, (nfds_t)n, &ts, NULL) <= 0)
		return;
	for (int i = 0; i < n; i++) {
		int ev = 0;
		size_t l = sizeof ev;
		zmq_getsockopt(r->c[i].s, ZMQ_EVENTS, &ev, &l);
		if (ev & ZMQ_POLLIN)
			drain(r, i);
	}
}

/* Event-driven service of many connections (the ingest runs): epoll on the
 * sockets' ZMQ_FD, so a round costs what the connections that have input
 * cost, not a zmq_poll over all N (at N = 1 000 that scan made the bench
 * itself take ~0.8 of the machine's two cores, which the broker then did
 * not have). ZMQ_FD only says that a socket's state may have changed: each
 * woken connection is read until ZMQ_EVENTS shows no input, fed, and read
 * again (a send may consume the signal of input that arrived meanwhile). */
static int
epoll_open(run *r)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1: %s", strerror(errno));
	for (int i = 0; i < r->n; i++) {
		int fd = -1;
		size_t fl = sizeof fd;
		if (zmq_getsockopt(r->c[i].s, ZMQ_FD, &fd, &fl) != 0)
			die("ZMQ_FD: %s", zmq_strerror(errno));
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0)
			die("epoll_ctl: %s", strerror(errno));
	}
	return ep;
}

static void feed(run *r, conn *c, double t);

/* Read, feed and read again connection i until it has no input. */
static void
service(run *r, int i)
{
	for (int k = 0; k < 1000; k++) {
		int ev = 0;
		size_t l = sizeof ev;
		zmq_getsockopt(r->c[i].s, ZMQ_EVENTS, &ev, &l);
		if (ev & ZMQ_POLLIN)
			drain(r, i);
		feed(r, &r->c[i], now_s());
		ev = 0;
		zmq_getsockopt(r->c[i].s, ZMQ_EVENTS, &ev, &l);
		if (!(ev & ZMQ_POLLIN))
			return;
	}
}

/* Wait at most timeout_ms for input on any connection and serve those that
 * have some; every connection is served on a timeout (a safety net). */
static void
epoll_round(run *r, int ep, int timeout_ms)
{
	struct epoll_event evs[256];
	int n = epoll_wait(ep, evs, 256, timeout_ms);
	if (n <= 0) {
		for (int i = 0; i < r->n; i++)
			service(r, i);
		return;
	}
	for (int k = 0; k < n; k++)
		service(r, (int)evs[k].data.u32);
}

static bool
wait_welcomes(run *r, double timeout)
{
	double dl = now_s() + timeout;
	while (now_s() < dl && !stop_flag) {
		int w = 0;
		for (int i = 0; i < r->n; i++)
			w += !r->c[i].hello || r->c[i].welcomed;
		if (w == r->n)
			return true;
		poll_all(r, 100);
	}
	return false;
}

/* Send what is due on connection c (window, schedule). */
static double flood_t0;

static void
feed(run *r, conn *c, double t)
{
	if (c->kind == C_FLOOD) { /* open loop at --flood-rate, cycling the pool */
		long due = (long)((t - flood_t0) * opt.flood_rate) - c->sent_total;
		for (long k = 0; k < due && k < 4096; k++) {
			msg *m = &c->msgs[c->sent_total % c->n];
			if (zmq_send(c->s, m->pkt, m->len, ZMQ_DONTWAIT) < 0)
				break;
			c->sent_total++;
		}
		return;
	}
	if (c->ledger) { /* node-like sender: sign and keep the burst, then send it */
		int k0 = c->next, k1 = k0;
		while (k1 < c->n && c->inflight + (k1 - k0) < c->window)
			k1++;
		if (k1 == k0)
			return;
		double ts = now_s();
		if (irn_ledger_begin(c->ledger) != IRN_OK)
			die("sender ledger: cannot begin");
		for (int k = k0; k < k1; k++) {
			uint8_t *env;
			size_t el;
			sign_msg(c->m, &c->msgs[k], &env, &el);
			c->msgs[k].t_sched = ts;
			irn_entry ent = { .type = IRN_ENTRY_MESSAGE, .accepted_ms = irn_now_ms(),
					  .roster_version = roster->version, .sender = c->m->id,
					  .message_id = c->msgs[k].id, .kind = IRNET__KIND__KIND_NOTE,
					  .sequence = c->msgs[k].seq, .data = env, .len = el,
					  .to_roles = IRN_ROLE_BIT(IRNET__ROLE__ROLE_COORDINATOR) };
			uint64_t idx;
			if (irn_ledger_append(c->ledger, &ent, &idx) != IRN_OK)
				die("sender ledger: cannot append");
			free(env);
		}
		if (irn_ledger_commit(c->ledger) != IRN_OK)
			die("sender ledger: cannot commit");
		c->stored += (uint64_t)(k1 - k0);
		if (r->t_first_send == 0)
			r->t_first_send = ts;
		t = now_s();
	}
	while (c->next < c->n && c->inflight < c->window && c->msgs[c->next].t_sched <= t) {
		msg *m = &c->msgs[c->next];
		if (zmq_send(c->s, m->pkt, m->len, ZMQ_DONTWAIT) < 0)
			break; /* HWM: later */
		m->t_sent = now_s();
		m->status = 1;
		if (r->t_first_send == 0)
			r->t_first_send = m->t_sent;
		c->next++;
		c->inflight++;
	}
}

/* ------------------------------------------------------------------ 1. baselines */

static double verify_rate, sign_rate, fsync_p50, fsync_p99;

/* One core's Ed25519 verify rate now (after 0.2 s of warm-up). */
static double
verify_rate_for(double seconds)
{
	uint8_t pk[32], sk[64], msgb[300], sig[64];
	crypto_sign_keypair(pk, sk);
	randombytes_buf(msgb, sizeof msgb);
	crypto_sign_detached(sig, NULL, msgb, sizeof msgb, sk);
	double t0 = now_s(), t;
	long n = 0;
	for (int warm = 1; warm >= 0; warm--) {
		t0 = now_s();
		n = 0;
		do {
			for (int i = 0; i < 64; i++)
				if (crypto_sign_verify_detached(sig, msgb, sizeof msgb, pk) != 0)
					die("verify failed");
			n += 64;
		} while ((t = now_s()) - t0 < (warm ? 0.2 : seconds));
	}
	sodium_memzero(sk, sizeof sk);
	return (double)n / (t - t0);
}

static void
bench_verify(void)
{
	verify_rate = verify_rate_for(opt.base_seconds);
	add_row("1", "Ed25519 verify, 300-byte message, one core");
	SETF(value, "%.0f /s (%.1f µs)", verify_rate, 1e6 / verify_rate);
	SETF(ratio, "1.00 (reference)");
}

static void
bench_crypto(void)
{
	uint8_t pk[32], sk[64], msgb[300], sig[64];
	crypto_sign_keypair(pk, sk);
	randombytes_buf(msgb, sizeof msgb);
	bench_verify();
	double t0 = now_s(), t;
	long n = 0;
	do {
		for (int i = 0; i < 64; i++)
			crypto_sign_detached(sig, NULL, msgb, sizeof msgb, sk);
		n += 64;
	} while ((t = now_s()) - t0 < opt.base_seconds);
	sign_rate = (double)n / (t - t0);
	add_row("1", "Ed25519 sign, 300-byte message, one core");
	SETF(value, "%.0f /s (%.1f µs)", sign_rate, 1e6 / sign_rate);
	SETF(ratio, "%.2f", sign_rate / verify_rate);

	/* What the broker does per message besides SQLite: check + build a receipt. */
	msg one;
	member *m = &ops[n_ops - 3];
	uint64_t keep = m->next_seq;
	build_msgs(m, &one, 1);
	m->next_seq = keep;
	Irnet__Packet *p = irnet__packet__unpack(NULL, one.len, one.pkt);
	if (!p)
		die("packet");
	t0 = now_s();
	n = 0;
	do {
		for (int i = 0; i < 16; i++) {
			irn_msg *im = NULL;
			irn_refusal why;
			int64_t nw = irn_now_ms();
			if (irn_envelope_check(roster, NET, p->submit.data, p->submit.len, m->id, nw, nw,
					       &im, &why) != 0)
				die("envelope check: %s", why.reason);
			irn_msg_free(&im);
		}
		n += 16;
	} while ((t = now_s()) - t0 < opt.base_seconds / 2);
	double chk = (double)n / (t - t0);
	add_row("1", "irn_envelope_check of a %zu-byte envelope, one core", p->submit.len);
	SETF(value, "%.0f /s (%.1f µs)", chk, 1e6 / chk);
	SETF(ratio, "%.2f", chk / verify_rate);
	/* The broker's receipt work per message (broker/receipts.c): leaf,
	 * tree, path and receipt encoding for each, one signed root per batch
	 * (batches of RC_BATCH, the bench's window). */
	enum { RC_BATCH = 64 };
	t0 = now_s();
	n = 0;
	do {
		uint8_t lv[RC_BATCH][IRN_HASH_LEN], eh[IRN_HASH_LEN];
		Irnet__Receipt rc[RC_BATCH];
		for (int i = 0; i < RC_BATCH; i++) {
			irnet__receipt__init(&rc[i]);
			rc[i].envelope_hash.data = eh;
			rc[i].envelope_hash.len = sizeof eh;
			rc[i].message_id.data = one.id;
			rc[i].message_id.len = IRN_MSGID_LEN;
			rc[i].sender = (char *)m->id;
			rc[i].accepted_ms = irn_now_ms();
			rc[i].ledger_index = (uint64_t)n + (uint64_t)i + 1;
			rc[i].roster_version = 1;
			uint8_t *leaf = NULL;
			size_t ll = 0;
			if (irn_receipt_leaf(&rc[i], &leaf, &ll) != IRN_OK)
				die("leaf");
			irn_merkle_leaf(lv[i], leaf, ll);
			free(leaf);
		}
		irn_merkle tr;
		if (irn_merkle_build(&tr, (const uint8_t (*)[IRN_HASH_LEN])lv, RC_BATCH) != IRN_OK)
			die("tree");
		Irnet__BatchRoot br = IRNET__BATCH_ROOT__INIT;
		br.root.data = (uint8_t *)irn_merkle_root(&tr);
		br.root.len = IRN_HASH_LEN;
		br.first_index = (uint64_t)n + 1;
		br.count = RC_BATCH;
		br.roster_version = 1;
		uint8_t bp[128], *out = NULL;
		size_t bl = irnet__batch_root__pack(&br, bp), ol = 0;
		if (irn_broker_reply(m->k, NET, home_a.id, NULL, IRNET__KIND__KIND_RECEIPT, 1, NULL, false,
				     bp, bl, &out, &ol) != IRN_OK)
			die("reply");
		for (int i = 0; i < RC_BATCH; i++) {
			uint8_t path[IRN_MERKLE_MAX_PATH][IRN_HASH_LEN];
			ProtobufCBinaryData pb[IRN_MERKLE_MAX_PATH];
			size_t pl = irn_merkle_path(&tr, (size_t)i, path);
			for (size_t k = 0; k < pl; k++) {
				pb[k].data = path[k];
				pb[k].len = IRN_HASH_LEN;
			}
			rc[i].n_path = pl;
			rc[i].path = pb;
			rc[i].has_batch_root = true;
			rc[i].batch_root.data = out;
			rc[i].batch_root.len = ol;
			uint8_t *enc = malloc(irnet__receipt__get_packed_size(&rc[i]));
			if (enc == NULL)
				die("nomem");
			irnet__receipt__pack(&rc[i], enc);
			free(enc);
		}
		free(out);
		irn_merkle_free(&tr);
		n += RC_BATCH;
	} while ((t = now_s()) - t0 < opt.base_seconds / 2);
	double rb = (double)n / (t - t0);
	add_row("1", "batch-signed receipts (leaf + tree + path + encoding, 1 signature per %d), one core",
		(int)RC_BATCH);
	SETF(value, "%.0f /s (%.1f µs)", rb, 1e6 / rb);
	SETF(ratio, "%.2f", rb / verify_rate);
	double per = 1.0 / chk + 1.0 / rb;
	add_row("1", "=> crypto + decode ceiling of one broker core (check + receipt)");
	SETF(value, "%.0f msg/s (%.1f µs/msg)", 1.0 / per, per * 1e6);
	SETF(ratio, "%.2f", 1.0 / per / verify_rate);
	irnet__packet__free_unpacked(p, NULL);
	free(one.pkt);
}

static void
bench_sqlite(void)
{
	char p[1200];
	snprintf(p, sizeof p, "%s/sqlite-baseline.db", opt.dir);
	sqlite3 *db;
	if (sqlite3_open(p, &db) != SQLITE_OK)
		die("sqlite open %s", p);
	if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			 "CREATE TABLE t(id INTEGER PRIMARY KEY, k BLOB, data BLOB);"
			 "CREATE UNIQUE INDEX t_k ON t(k);", NULL, NULL, NULL) != SQLITE_OK)
		die("sqlite: %s", sqlite3_errmsg(db));
	sqlite3_stmt *ins;
	if (sqlite3_prepare_v2(db, "INSERT INTO t(k, data) VALUES(?, ?)", -1, &ins, NULL) != SQLITE_OK)
		die("sqlite: %s", sqlite3_errmsg(db));
	static const int batches[] = { 1, 64, 512 };
	uint8_t data[400], k[16];
	randombytes_buf(data, sizeof data);
	for (size_t bi = 0; bi < 3; bi++) {
		int bs = batches[bi];
		long rowsn = 0, commits = 0;
		double t0 = now_s(), t;
		do {
			sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
			for (int i = 0; i < bs; i++) {
				randombytes_buf(k, sizeof k);
				sqlite3_bind_blob(ins, 1, k, sizeof k, SQLITE_STATIC);
				sqlite3_bind_blob(ins, 2, data, sizeof data, SQLITE_STATIC);
				if (sqlite3_step(ins) != SQLITE_DONE)
					die("sqlite insert: %s", sqlite3_errmsg(db));
				sqlite3_reset(ins);
			}
			if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
				die("sqlite commit: %s", sqlite3_errmsg(db));
			rowsn += bs;
			commits++;
		} while ((t = now_s()) - t0 < opt.base_seconds);
		double rr = (double)rowsn / (t - t0), cr = (double)commits / (t - t0);
		add_row("1", "SQLite WAL synchronous=FULL, batches of %d rows of 400 B", bs);
		SETF(value, "%.0f rows/s, %.0f commits/s", rr, cr);
		SETF(ratio, "%.2f", rr / verify_rate);
	}
	sqlite3_finalize(ins);
	sqlite3_close(db);
}

static void
bench_fsync(void)
{
	char p[1200];
	snprintf(p, sizeof p, "%s/fsync-probe", opt.dir);
	int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		die("open %s", p);
	static uint8_t big[1 << 20];
	if (write(fd, big, sizeof big) != (ssize_t)sizeof big || fsync(fd) != 0)
		die("write %s", p);
	double v[200];
	uint8_t small[512];
	for (int i = 0; i < 200; i++) {
		randombytes_buf(small, sizeof small);
		double t0 = now_s();
		if (pwrite(fd, small, sizeof small, (off_t)(i % 256) * 4096) != (ssize_t)sizeof small ||
		    fdatasync(fd) != 0)
			die("fdatasync");
		v[i] = (now_s() - t0) * 1000;
	}
	close(fd);
	unlink(p);
	qsort(v, 200, sizeof v[0], cmp_double);
	fsync_p50 = pct(v, 200, 50);
	fsync_p99 = pct(v, 200, 99);
	add_row("1", "fdatasync of a 512-byte write (200 samples)");
	SETF(value, "p50 %.2f ms, p99 %.2f ms, max %.2f ms", fsync_p50, fsync_p99, v[199]);
}

/* ------------------------------------------------------------------ 2. ingest */

typedef struct ingest_res {
	double rate;
} ingest_res;

/* The window of one ingest run when not --window: the N = 1 run is
 * repeated with irnet-node's own outbox window (node/daemon.c,
 * OUTBOX_WINDOW), since one sender with 64 in flight measures the round
 * trip (each commit round waits for its fsync), not the broker's rate. */
#define NODE_OUTBOX_WINDOW 1000
static int ingest_w;
static double last_ref; /* the verify rate measured just before the last ingest run */

static double
ingest(int N, bool hello, int total)
{
	int W = ingest_w ? ingest_w : opt.window;
	int per = (total + N - 1) / N;
	if (per < 1)
		per = 1;
	note("ingest: N=%d, W=%d, %d messages each%s: signing...", N, W, per,
	     hello ? "" : ", no Hello");
	msg **all = calloc((size_t)N, sizeof *all);
	for (int i = 0; i < N; i++) {
		all[i] = calloc((size_t)per, sizeof *all[i]);
		seq_from(&home_a, &ops[i]);
		build_msgs(&ops[i], all[i], per);
	}
	long long rows0 = ledger_q(&home_a, "SELECT count(*) FROM ledger WHERE type = 2");
	long long head = ledger_q(&home_a, "SELECT coalesce(max(idx), 0) FROM ledger");
	/* this machine's speed drifts (a full run once ended with the verify
	 * rate at 0.72 of its start): the verdict compares with the reference
	 * measured just before the run */
	double ref = verify_rate_for(0.5);
	last_ref = ref;
	char ph[64];
	snprintf(ph, sizeof ph, "ingest-%d%s-at%lld", N, hello ? "" : "-nohello", head);
	broker_proc b;
	broker_start(&b, &home_a, ph, opt.member_rate);
	run r;
	run_open(&r, &home_a, N);
	for (int i = 0; i < N; i++) {
		conn_connect(&r, i, &ops[i], C_SENDER, hello, (uint64_t)head);
		r.c[i].msgs = all[i];
		r.c[i].n = per;
		r.c[i].window = W;
	}
	double tc = now_s();
	if (hello && !wait_welcomes(&r, 60))
		note("ingest N=%d: not every sender was welcomed in 60 s", N);
	else if (!hello)
		usleep(200000 + 1000 * (useconds_t)N); /* no Welcome to wait for */
	note("ingest: %d connections up in %.2f s; running", N, now_s() - tc);
	double cpu_b0 = broker_cpu(&b), cpu_s0 = self_cpu();
	cpu_mark mk0, mk1;
	cpu_mark_take(&mk0, cpu_b0);
	double t0 = now_s(), last_progress = t0;
	long done_prev = 0;
	long want = (long)N * per;
	int ep = epoll_open(&r);
	for (int i = 0; i < N; i++)
		service(&r, i);
	for (;;) {
		epoll_round(&r, ep, 50);
		long done = r.done;
		if (done >= want || stop_flag)
			break;
		if (done != done_prev) {
			done_prev = done;
			last_progress = now_s();
		} else if (now_s() - last_progress > 10) {
			note("ingest N=%d: no progress for 10 s, giving up at %ld/%ld", N, done, want);
			break;
		}
		if (now_s() - t0 > 300) {
			note("ingest N=%d: 300 s limit", N);
			break;
		}
	}
	double cpu_b1 = broker_cpu(&b), cpu_s1 = self_cpu();
	close(ep);
	cpu_mark_take(&mk1, cpu_b1);
	double stl, oth = others_cores(&mk0, &mk1, &stl);
	long receipts = 0, errors = 0, limited = 0;
	for (int i = 0; i < N; i++) {
		receipts += r.c[i].receipts;
		errors += r.c[i].errors;
		limited += r.c[i].rate_limited;
	}
	double el = r.t_last_done - r.t_first_send;
	double rate = el > 0 ? (double)receipts / el : 0;
	run_close(&r);
	broker_stop(&b);
	long long rows1 = ledger_q(&home_a, "SELECT count(*) FROM ledger WHERE type = 2");
	long long added = rows1 - rows0;
	add_row("2", "ingest N=%d%s%s%s, W=%d%s, ledger at %lld: %ld receipts%s%s", N,
		hello ? "" : " (no Hello)",
		overload_run ? ", OVERLOAD: 1.5 × W each at once, N × W in flight > the broker's queue_max (32 768): back-pressure" : "",
		nofsync_control ? ", CONTROL: fsync OFF (compare with NATS, which acks before fsync)" : "",
		W, ingest_w == NODE_OUTBOX_WINDOW ? " (irnet-node's outbox window)" : "", head, receipts, errors ? ", ERRORS" : "",
		receipts + errors < want ? ", UNANSWERED" : "");
	SETF(value, "%.0f msg/s in %.2f s; verify rate just before %.0f/s (%.2f × the first)", rate,
	     el, ref, ref / verify_rate);
	SETF(ratio, "%.2f", rate / ref);
	SETF(target, "%s", nofsync_control ? "" : "≥ 0.70");
	SETF(verdict, "%s", nofsync_control ? (added == receipts ? "(control)" : "ROWS ≠ RECEIPTS")
			    : rate / ref >= 0.7 && added == receipts ? "met" : "NOT met");
	add_row("2", "  ledger rows added / CPU s broker, bench / broker µs per msg / other load");
	SETF(value, "%lld (%s) / %.2f, %.2f / %.0f µs / %.2f cores, steal %.2f", added,
	     added == receipts ? "= receipts" : "≠ receipts!", cpu_b1 - cpu_b0, cpu_s1 - cpu_s0,
	     receipts ? (cpu_b1 - cpu_b0) / (double)receipts * 1e6 : 0.0, oth, stl);
	SETF(ratio, "%.2f cores", el > 0 ? (cpu_b1 - cpu_b0) / el : 0.0);
	note("ingest N=%d: %.0f msg/s, %ld receipts, %ld errors, %ld rate-limit notices, %ld "
	     "unanswered, %lld rows added, broker %.2f s CPU", N, rate, receipts, errors, limited,
	     want - receipts - errors, added, cpu_b1 - cpu_b0);
	for (int i = 0; i < N; i++)
		free_msgs(all[i], per);
	free(all);
	return rate;
}

/* One ingest configuration run opt.runs times (successive runs on this
 * machine differ by up to +-0.1 in the ratio): the table keeps the rows of
 * the median run and lists every run's ratio beside it. */
static int
cmp_int_by_rate(const void *a, const void *b, void *ctx)
{
	const double *r = ctx;
	double x = r[*(const int *)a], y = r[*(const int *)b];
	return x < y ? -1 : x > y;
}

static double
ingest_rep(int N, bool hello, int total)
{
	enum { MAXR = 9 };
	int K = opt.runs < 1 ? 1 : opt.runs > MAXR ? MAXR : opt.runs;
	double rates[MAXR], ratios[MAXR];
	int at[MAXR], ord[MAXR], got = 0, base = n_rows;
	for (int k = 0; k < K && !stop_flag; k++) {
		at[got] = n_rows;
		rates[got] = ingest(N, hello, total);
		ratios[got] = last_ref > 0 ? rates[got] / last_ref : 0;
		ord[got] = got;
		got++;
	}
	if (got < 2 || n_rows != base + 2 * got)
		return got ? rates[got - 1] : 0;
	qsort_r(ord, (size_t)got, sizeof ord[0], cmp_int_by_rate, ratios);
	int m = ord[got / 2];
	row r0 = rows[at[m]], r1 = rows[at[m] + 1];
	char runs[96] = "";
	size_t o = 0;
	for (int k = 0; k < got && o < sizeof runs; k++)
		o += (size_t)snprintf(runs + o, sizeof runs - o, "%s%.2f", k ? ", " : "", ratios[k]);
	n_rows = base;
	rows[n_rows++] = r0;
	rows[n_rows++] = r1;
	snprintf(rows[base].ratio, sizeof rows[base].ratio, "%.8s (median of %d: %.60s)", r0.ratio, got,
		 runs);
	return rates[m];
}

/* ------------------------------------------------------------------ 3. end to end */

/* The receiving side of an end-to-end run: its own thread, context and
 * socket, as a separate node would be; the sending side stays in the main
 * thread. */
typedef struct e2e_rx {
	run r;
	int total;
	_Atomic bool stop;
	pthread_t t;
} e2e_rx;

static void *
e2e_rx_main(void *arg)
{
	e2e_rx *x = arg;
	conn *c = &x->r.c[0];
	while (!atomic_load(&x->stop) && atomic_load(&c->progress) < (uint64_t)x->total)
		poll_all(&x->r, 50);
	return NULL;
}

static irn_ledger *
e2e_ledger(const char *name)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/%s", opt.dir, name);
	unlink(p);
	irn_ledger *l = NULL;
	if (irn_ledger_open(p, false, &l) != IRN_OK)
		die("cannot create %s", p);
	return l;
}

/* nodes: node-like ends (the sender signs each burst when it sends it and
 * keeps it in its ledger first; the receiver verifies, keeps each burst in its
 * ledger, then acknowledges), as irnet-node does; otherwise the sender's
 * envelopes are signed before the clock starts and the receiver only
 * verifies: what the broker's forwarding alone can do. */
static void
e2e(bool nodes)
{
	int total = opt.e2e_total;
	note("end to end (%s): %d messages, W=%d", nodes ? "node-like ends" : "forwarding", total,
	     opt.window);
	/* the machine drifts: compare with the verify rate measured just now */
	double ref = verify_rate_for(0.5);
	msg *v = calloc((size_t)total, sizeof *v);
	member *sm = &ops[n_ops - 3];
	seq_from(&home_b, sm);
	uint64_t seq0 = sm->next_seq;
	if (!nodes)
		build_msgs(sm, v, total);
	broker_proc b;
	broker_start(&b, &home_b, nodes ? "e2e-nodes" : "e2e", opt.member_rate);
	static uint64_t rx_from; /* the second run starts where the first ended */
	e2e_rx rx = { .total = total };
	run_open(&rx.r, &home_b, 1);
	conn_connect(&rx.r, 0, &coord, C_RECEIVER, true, rx_from);
	conn *rc = &rx.r.c[0];
	rc->last_index = rx_from;
	rc->dmsgs = v;
	rc->dn = total;
	rc->dseq0 = seq0;
	run r;
	run_open(&r, &home_b, 1);
	conn_connect(&r, 0, sm, C_SENDER, true, 0);
	conn *sc = &r.c[0];
	sc->msgs = v;
	sc->n = total;
	sc->window = opt.window;
	if (nodes) {
		rc->ledger = e2e_ledger("e2e-receiver.db");
		rc->burst = calloc((size_t)total, sizeof *rc->burst);
		sc->ledger = e2e_ledger("e2e-sender.db");
		if (!rc->burst)
			die("out of memory");
	}
	if (!wait_welcomes(&rx.r, 30) || !wait_welcomes(&r, 30))
		die("end to end: not welcomed in 30 s");
	if (pthread_create(&rx.t, NULL, e2e_rx_main, &rx) != 0)
		die("pthread_create");
	double cpu_b0 = broker_cpu(&b), cpu_s0 = self_cpu();
	cpu_mark mk0, mk1;
	cpu_mark_take(&mk0, cpu_b0);
	double t0 = now_s(), last_progress = t0;
	uint64_t prev = 0;
	while (!stop_flag) {
		feed(&r, sc, now_s());
		poll_all(&r, 5);
		uint64_t got = atomic_load(&rc->progress);
		if (got >= (uint64_t)total)
			break;
		if (got != prev) {
			prev = got;
			last_progress = now_s();
		} else if (now_s() - last_progress > 10) {
			note("end to end: no progress for 10 s at %llu/%d", (unsigned long long)prev, total);
			break;
		}
		if (now_s() - t0 > 300)
			break;
	}
	atomic_store(&rx.stop, true);
	pthread_join(rx.t, NULL);
	double cpu_b1 = broker_cpu(&b), cpu_s1 = self_cpu();
	cpu_mark_take(&mk1, cpu_b1);
	double stl, oth = others_cores(&mk0, &mk1, &stl);
	rx_from = rc->last_index;
	double el = rc->t_last - r.t_first_send;
	double rate = el > 0 ? (double)rc->delivered / el : 0;
	double *lat = calloc((size_t)total, sizeof *lat);
	size_t nl = 0;
	for (int i = 0; i < total; i++)
		if (v[i].t_deliv > 0)
			lat[nl++] = (v[i].t_deliv - (nodes ? v[i].t_sched : v[i].t_sent)) * 1000;
	qsort(lat, nl, sizeof *lat, cmp_double);
	if (nodes)
		add_row("3", "end to end, node-like: sign+ledger → broker → verify+ledger, W=%d", opt.window);
	else
		add_row("3", "end to end, forwarding: pre-signed → broker → verify, W=%d", opt.window);
	SETF(value, "%.0f msg/s delivered+verified%s (%llu in %.2f s); verify rate just before %.0f/s", rate,
	     nodes ? "+stored" : "", (unsigned long long)rc->delivered, el, ref);
	SETF(ratio, "%.2f", rate / ref);
	bool ok = rc->refused == 0 && rc->gaps == 0 && (!nodes || (rc->stored == rc->delivered &&
								     sc->stored == (uint64_t)total));
	if (nodes) {
		SETF(target, "≥ 0.50");
		SETF(verdict, "%s", rate / ref >= 0.5 && ok ? "met" : "NOT met");
	} else {
		SETF(verdict, "%s", ok ? "(forwarding only)" : "ERRORS");
	}
	add_row("3", "  send→%s p50, p99 / receipts / refused, gaps%s / CPU s broker, bench / other load",
		nodes ? "stored at receiver" : "delivered", nodes ? " / ledger rows sender, receiver" : "");
	char lrows[64] = "";
	if (nodes)
		snprintf(lrows, sizeof lrows, " / %llu, %llu", (unsigned long long)sc->stored,
			 (unsigned long long)rc->stored);
	SETF(value, "%.1f ms, %.1f ms / %d / %llu, %llu%.40s / %.2f, %.2f / %.2f cores, steal %.2f",
	     pct(lat, nl, 50), pct(lat, nl, 99), sc->receipts, (unsigned long long)rc->refused,
	     (unsigned long long)rc->gaps, lrows, cpu_b1 - cpu_b0, cpu_s1 - cpu_s0, oth, stl);
	SETF(ratio, "%.2f cores", el > 0 ? (cpu_b1 - cpu_b0) / el : 0.0);
	note("end to end: %.0f msg/s, %llu delivered, %llu refused, %llu gaps", rate,
	     (unsigned long long)rc->delivered, (unsigned long long)rc->refused,
	     (unsigned long long)rc->gaps);
	if (rc->ledger)
		irn_ledger_close(&rc->ledger);
	if (sc->ledger)
		irn_ledger_close(&sc->ledger);
	free(rc->burst);
	run_close(&rx.r);
	run_close(&r);
	broker_stop(&b);
	free(lat);
	free_msgs(v, total);
}

/* The real thing: two irnet-node daemons. The sender's `message --count`
 * signs and stores each chunk of messages in one transaction and returns;
 * its daemon sends them (window 1000), the broker receipts them, the
 * coordinator's daemon verifies and stores each delivery burst, then acks.
 * Timed from the first command to the moment the coordinator's ledger holds
 * them all (read-only polling every 5 ms). */
static pid_t
node_start(const bhome *nh, const char *logname)
{
	char logp[1300];
	snprintf(logp, sizeof logp, "%s/%s.log", opt.dir, logname);
	int fd;
	pid_t pid = daemon_spawn(opt.node, nh->dir, logp, false, &fd);
	if (pid < 0)
		die("irnet-node did not become ready (see %s)", logp);
	close(fd);
	return pid;
}

static void
node_stop(pid_t pid)
{
	kill(pid, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		usleep(100000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* Run irnet-node with args on home nh; its stdout to out (may be NULL). */
static int
node_cmd(const bhome *nh, char *out, size_t outsz, const char *const *args)
{
	int pfd[2];
	if (pipe(pfd) != 0)
		die("pipe");
	pid_t pid = fork();
	if (pid == 0) {
		const char *av[24] = { opt.node, "--home", nh->dir };
		int k = 3;
		for (int i = 0; args[i] && k < 23; i++)
			av[k++] = args[i];
		av[k] = NULL;
		int dn = open("/dev/null", O_RDWR);
		dup2(pfd[1], 1);
		dup2(dn, 2);
		close(pfd[0]);
		execv(opt.node, (char *const *)av);
		_exit(127);
	}
	close(pfd[1]);
	size_t got = 0;
	char sink[4096];
	ssize_t n;
	while ((n = read(pfd[0], out && got + 1 < outsz ? out + got : sink,
			 out && got + 1 < outsz ? outsz - 1 - got : sizeof sink)) > 0)
		if (out && got + 1 < outsz)
			got += (size_t)n;
	if (out)
		out[got] = 0;
	close(pfd[0]);
	int st = 0;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static long long
node_q(const bhome *nh, const char *sql)
{
	bhome t = *nh; /* ledger_q reads DIR/ledger.db */
	return ledger_q(&t, sql);
}

static void
e2e_real(void)
{
	int total = opt.e2e_total;
	note("end to end with two irnet-node daemons (%s): %d messages", opt.node, total);
	double ref = verify_rate_for(0.5);
	broker_proc b;
	broker_start(&b, &home_b, "e2e-real", opt.member_rate);
	live_nodes[0] = node_start(&node_snd, "node-sender");
	live_nodes[1] = node_start(&node_rcv, "node-coordinator");
	const char *st[] = { "--json", "status", NULL };
	char out[65536];
	double dl = now_s() + 30;
	for (int i = 0; i < 2; i++)
		while (now_s() < dl && !stop_flag &&
		       (node_cmd(i ? &node_rcv : &node_snd, out, sizeof out, st) != 0 ||
			!strstr(out, "\"connected\": true")))
			usleep(100000);
	if (now_s() >= dl)
		die("end to end (nodes): the nodes did not connect in 30 s");
	/* the coordinator's node is new: it first catches up with what the
	 * earlier rows sent to role:coordinator. Start once its ledger is still. */
	char rq[512]; /* through the (sender, sequence) index: no table scan */
	snprintf(rq, sizeof rq, "SELECT count(*) FROM ledger WHERE type = 2 AND sender = '%s'", node_snd.id);
	long long rows0 = node_q(&node_rcv, rq);
	for (double still = now_s(); now_s() - still < 1.5 && now_s() < dl + 120 && !stop_flag;) {
		usleep(100000);
		long long r = node_q(&node_rcv, rq);
		if (r != rows0) {
			rows0 = r;
			still = now_s();
		}
	}
	long long want = rows0 + total;
	long long done0 = node_q(&node_snd, "SELECT count(*) FROM outbox WHERE state = 'done'");
	double cpu_b0 = broker_cpu(&b), cpu_n0 = proc_cpu(live_nodes[0]),
	       cpu_r0 = proc_cpu(live_nodes[1]), cpu_s0 = self_cpu();
	cpu_mark mk0, mk1;
	cpu_mark_take(&mk0, cpu_b0);
	double t0 = now_s(), t_stored = 0, t_end = 0;
	/* the commands run from a child, so that this loop can watch meanwhile */
	pid_t sender = fork();
	if (sender == 0) {
		for (int left = total; left > 0;) {
			int c = left > 10000 ? 10000 : left;
			char cnt[16];
			snprintf(cnt, sizeof cnt, "%d", c);
			const char *margs[] = { "message", "--kind", "note", "--to", "role:coordinator",
					      "--text", "Báo cáo tiến độ: đã cô lập máy chủ bị nhiễm, đang khôi phục dữ liệu.",
					      "--count", cnt, NULL };
			if (node_cmd(&node_snd, NULL, 0, margs) != 0)
				_exit(1);
			left -= c;
		}
		_exit(0);
	}
	long long got = rows0;
	int sst = -1;
	/* one read-only connection, polled every 10 ms (opening the database
	 * at every poll cost this process more CPU than the nodes) */
	char lp[1300];
	snprintf(lp, sizeof lp, "%s/ledger.db", node_rcv.dir);
	sqlite3 *rdb = NULL;
	sqlite3_stmt *rst = NULL;
	if (sqlite3_open_v2(lp, &rdb, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(rdb, rq, -1, &rst, NULL) != SQLITE_OK)
		die("cannot read %s", lp);
	sqlite3_busy_timeout(rdb, 1000);
	while (!stop_flag && now_s() - t0 < 300) {
		if (t_stored == 0 && waitpid(sender, &sst, WNOHANG) == sender)
			t_stored = now_s();
		if (sqlite3_step(rst) == SQLITE_ROW)
			got = sqlite3_column_int64(rst, 0);
		sqlite3_reset(rst);
		if (got >= want) {
			t_end = now_s();
			break;
		}
		usleep(10000);
	}
	sqlite3_finalize(rst);
	sqlite3_close(rdb);
	if (t_stored == 0) {
		waitpid(sender, &sst, 0);
		t_stored = now_s();
	}
	double cpu_b1 = broker_cpu(&b), cpu_n1 = proc_cpu(live_nodes[0]),
	       cpu_r1 = proc_cpu(live_nodes[1]), cpu_s1 = self_cpu();
	cpu_mark_take(&mk1, cpu_b1);
	double stl, oth = others_cores(&mk0, &mk1, &stl);
	usleep(500000); /* the last receipts */
	long long done = node_q(&node_snd, "SELECT count(*) FROM outbox WHERE state = 'done'") - done0;
	node_stop(live_nodes[1]);
	node_stop(live_nodes[0]);
	live_nodes[0] = live_nodes[1] = 0;
	broker_stop(&b);
	double el = t_end > 0 ? t_end - t0 : now_s() - t0;
	double rate = t_end > 0 ? (double)total / el : 0;
	bool ok = t_end > 0 && WIFEXITED(sst) && WEXITSTATUS(sst) == 0 && got == want;
	add_row("3", "end to end, two irnet-node daemons: message --count → broker → coordinator's ledger");
	SETF(value, "%.0f msg/s signed, sent, verified, stored at both ends (%d in %.2f s); verify rate just before %.0f/s",
	     rate, total, el, ref);
	SETF(ratio, "%.2f", rate / ref);
	SETF(target, "≥ 0.50");
	SETF(verdict, "%s", ok && rate / ref >= 0.5 ? "met" : ok ? "NOT met" : "FAILED");
	add_row("3", "  stored at the sender after / receipts / coordinator rows added / CPU s broker, sender node, coordinator node, bench / other load");
	SETF(value, "%.2f s / %lld / %lld / %.2f, %.2f, %.2f, %.2f / %.2f cores, steal %.2f", t_stored - t0,
	     done, got - rows0, cpu_b1 - cpu_b0, cpu_n1 - cpu_n0, cpu_r1 - cpu_r0, cpu_s1 - cpu_s0, oth, stl);
	SETF(ratio, "%.2f cores", el > 0 ? (cpu_b1 - cpu_b0 + cpu_n1 - cpu_n0 + cpu_r1 - cpu_r0) / el : 0.0);
	note("end to end (nodes): %.0f msg/s, %lld of %d at the coordinator, %lld receipts", rate,
	     got - rows0, total, done);
}

/* ------------------------------------------------------------------ 4, 5. latency */

static double nofl_p99;
/* The flooder of the next latency() run keeps NODE_OUTBOX_WINDOW fresh,
 * pre-signed messages in flight and sends the next as soon as one is
 * answered (a compromised or runaway node within its window: the flood
 * tests/integration/fairness.sh makes), instead of offering --flood-rate
 * open loop (which overflows its queue at the broker and is then refused
 * as out of sequence, so that it loads the broker less). */
static bool flood_windowed;

/* The windowed flooder runs on its own thread with its own ZeroMQ context,
 * as a separate node would: sharing the senders' loop, its ~10 000
 * receipts a second (each matched against 1 000 in flight) were read in
 * front of the others' and their latency included that wait. */
typedef struct flooder {
	run r;
	_Atomic bool stop;
	_Atomic long sent, receipts;
	pthread_t t;
} flooder;

static void *
flooder_main(void *arg)
{
	flooder *f = arg;
	conn *c = &f->r.c[0];
	int ep = epoll_open(&f->r);
	service(&f->r, 0);
	while (!atomic_load(&f->stop) && !stop_flag) {
		epoll_round(&f->r, ep, 5);
		atomic_store(&f->sent, c->next);
		atomic_store(&f->receipts, c->receipts);
	}
	close(ep);
	return NULL;
}

/* flood_limit: -1 no flooder; 0 the broker's default member_rate; else that. */
static void
latency(const bhome *bh, int flood_limit, double capacity_guess)
{
	bool flood = flood_limit >= 0;
	int S = opt.lat_senders;
	int total = (int)(opt.lat_rate * opt.lat_seconds);
	int per = total / S;
	total = per * S;
	int fl_n = 0;
	if (flood) { /* enough fresh messages for what the broker could accept */
		double acc = capacity_guess < opt.flood_rate ? capacity_guess : opt.flood_rate;
		if (flood_windowed)
			acc = capacity_guess;
		fl_n = (int)(acc * (opt.lat_seconds + 2) * 1.2);
		if (fl_n < 2000)
			fl_n = 2000;
		if (fl_n > (flood_windowed ? 240000 : 120000))
			fl_n = flood_windowed ? 240000 : 120000;
	}
	char lim[48];
	if (flood_limit > 0)
		snprintf(lim, sizeof lim, "member_rate=%d", flood_limit);
	else
		snprintf(lim, sizeof lim, "broker's default member_rate");
	note("latency: %d msg/s over %d senders for %.0f s%s%s: signing...", opt.lat_rate, S,
	     opt.lat_seconds, flood ? ", one flooder offering msg/s: " : "", flood ? lim : "");
	msg **all = calloc((size_t)S, sizeof *all);
	for (int i = 0; i < S; i++) {
		all[i] = calloc((size_t)per, sizeof *all[i]);
		seq_from(bh, &ops[i]);
		build_msgs(&ops[i], all[i], per);
	}
	msg *fv = NULL;
	member *fm = &ops[n_ops - 2];
	if (flood) {
		fv = calloc((size_t)fl_n, sizeof *fv);
		seq_from(bh, fm);
		build_msgs(fm, fv, fl_n);
	}
	long long head = ledger_q(bh, "SELECT coalesce(max(idx), 0) FROM ledger");
	char ph[48];
	if (flood)
		snprintf(ph, sizeof ph, "flood-%d", flood_limit);
	else
		snprintf(ph, sizeof ph, "latency-%lld", head);
	broker_proc b;
	broker_start(&b, bh, ph, flood ? flood_limit : opt.member_rate);
	bool fl_thread = flood && flood_windowed;
	flooder fw;
	memset(&fw, 0, sizeof fw);
	run r;
	run_open(&r, bh, S + (flood && !fl_thread ? 1 : 0));
	for (int i = 0; i < S; i++) {
		conn_connect(&r, i, &ops[i], C_SENDER, true, (uint64_t)head);
		r.c[i].msgs = all[i];
		r.c[i].n = per;
		r.c[i].window = 1 << 30; /* open loop: the schedule decides */
	}
	if (fl_thread) {
		run_open(&fw.r, bh, 1);
		conn_connect(&fw.r, 0, fm, C_SENDER, true, (uint64_t)head);
		fw.r.c[0].msgs = fv;
		fw.r.c[0].n = fl_n;
		fw.r.c[0].window = NODE_OUTBOX_WINDOW; /* t_sched 0: as fast as answered */
		for (int k = 0; k < fl_n; k++)
			fv[k].t_sched = 1e300; /* held until the flood starts */
		if (!wait_welcomes(&fw.r, 30))
			die("latency: the flooder was not welcomed in 30 s");
	} else if (flood) {
		conn_connect(&r, S, fm, C_FLOOD, true, (uint64_t)head);
		r.c[S].msgs = fv;
		r.c[S].n = fl_n;
	}
	if (!wait_welcomes(&r, 30))
		die("latency: not welcomed in 30 s");
	double cpu_b0 = broker_cpu(&b), cpu_s0 = self_cpu();
	cpu_mark mk0, mk1;
	cpu_mark_take(&mk0, cpu_b0);
	flood_t0 = now_s();
	if (fl_thread) {
		for (int k = 0; k < fl_n; k++)
			fv[k].t_sched = 0;
		if (pthread_create(&fw.t, NULL, flooder_main, &fw) != 0)
			die("pthread_create");
	}
	double t0 = flood_t0 + (flood ? 1.0 : 0.2); /* the flood starts 1 s before */
	for (int k = 0; k < total; k++)
		all[k % S][k / S].t_sched = t0 + (double)k / opt.lat_rate;
	double tsched_end = t0 + (double)total / opt.lat_rate;
	double tend = tsched_end + 15; /* then at most 15 s more for the answers */
	double flood_end = 0;
	long fl_sent_end = 0;
	int fl_rc_end = 0;
	for (;;) {
		double t = now_s();
		for (int i = 0; i < r.n; i++)
			if (!(flood && i == S && t > tsched_end)) /* the flood stops with the schedule */
				feed(&r, &r.c[i], t);
		if (flood && flood_end == 0 && t > tsched_end) {
			flood_end = t;
			if (fl_thread) {
				atomic_store(&fw.stop, true);
				pthread_join(fw.t, NULL);
				fl_sent_end = fw.sent;
				fl_rc_end = (int)fw.receipts;
			} else {
				fl_sent_end = r.c[S].sent_total;
				fl_rc_end = r.c[S].receipts;
			}
		}
		long done = 0;
		for (int i = 0; i < S; i++)
			done += r.c[i].receipts + r.c[i].errors;
		if (done >= total || stop_flag || t > tend)
			break;
		double next = tend; /* wake up for the next scheduled send */
		for (int i = 0; i < S; i++)
			if (r.c[i].next < r.c[i].n && r.c[i].msgs[r.c[i].next].t_sched < next)
				next = r.c[i].msgs[r.c[i].next].t_sched;
		double to = next - now_s();
		if (to > (flood ? 0.001 : 0.05))
			to = flood ? 0.001 : 0.05;
		poll_all_precise(&r, to);
	}
	double t_meas_end = now_s();
	double cpu_b1 = broker_cpu(&b), cpu_s1 = self_cpu();
	cpu_mark_take(&mk1, cpu_b1);
	double stl, oth = others_cores(&mk0, &mk1, &stl);
	double *lat = calloc((size_t)total, sizeof *lat), lag = 0;
	size_t nl = 0;
	long errors = 0;
	for (int i = 0; i < S; i++) {
		errors += r.c[i].errors + r.c[i].rate_limited;
		for (int k = 0; k < per; k++) {
			msg *m = &all[i][k];
			if (m->status == 2)
				lat[nl++] = (m->t_done - m->t_sched) * 1000;
			if (m->status >= 1 && m->t_sent - m->t_sched > lag)
				lag = m->t_sent - m->t_sched;
		}
	}
	qsort(lat, nl, sizeof *lat, cmp_double);
	double p50 = pct(lat, nl, 50), p99 = pct(lat, nl, 99), p999 = pct(lat, nl, 99.9);
	double cores = (cpu_b1 - cpu_b0) / (t_meas_end - flood_t0);
	if (!flood) {
		if (bh == &home_c)
			nofl_p99 = p99;
		add_row("4", "latency submit→receipt at %d msg/s over %d senders, %.0f s, ledger at %lld",
			opt.lat_rate, S, opt.lat_seconds, head);
		SETF(value, "p50 %.1f, p99 %.1f, p99.9 %.1f ms (%zu/%d)", p50, p99, p999, nl, total);
		SETF(ratio, "p99 = %.1f × fsync p99", p99 / fsync_p99);
		SETF(target, "p99 ≤ 2 × fsync p99 = %.1f ms", 2 * fsync_p99);
		SETF(verdict, "%s", p99 <= 2 * fsync_p99 && nl == (size_t)total ? "met" : "NOT met");
		add_row("4", "  max send lag behind schedule / errors / cores broker, bench / other load");
		SETF(value, "%.1f ms / %ld / %.2f, %.2f / %.2f cores, steal %.2f", lag * 1000, errors,
		     cores, (cpu_s1 - cpu_s0) / (t_meas_end - flood_t0), oth, stl);
	} else {
		if (fl_thread && flood_end == 0) { /* stopped early */
			atomic_store(&fw.stop, true);
			pthread_join(fw.t, NULL);
			flood_end = now_s();
			fl_sent_end = fw.sent;
			fl_rc_end = (int)fw.receipts;
		}
		conn *fc = fl_thread ? &fw.r.c[0] : &r.c[S];
		double fdur = flood_end > 0 ? flood_end - flood_t0 : t_meas_end - flood_t0;
		if (flood_end == 0) {
			fl_sent_end = fc->sent_total;
			fl_rc_end = fc->receipts;
		}
		if (flood_windowed)
			add_row("5", "others' latency, 1 flooder keeping %d in flight (as fast as answered), %s, ledger at %lld",
				NODE_OUTBOX_WINDOW, lim, head);
		else
			add_row("5", "others' latency, 1 flooder offering %d msg/s, %s, ledger at %lld",
				opt.flood_rate, lim, head);
		SETF(value, "p50 %.1f, p99 %.1f, p99.9 %.1f ms (%zu/%d answered)", p50, p99, p999, nl,
		     total);
		SETF(ratio, "p99 = %.1f × no-flood p99", p99 / nofl_p99);
		SETF(target, "≤ 10 × no-flood p99");
		SETF(verdict, "%s", p99 <= 10 * nofl_p99 && nl == (size_t)total ? "met" : "NOT met");
		add_row("5", "  flooder sent, receipts, limit notices / others' errors / cores broker, bench / other load");
		SETF(value, "%.0f/s, %.0f/s, %d / %ld / %.2f, %.2f / %.2f cores, steal %.2f",
		     (double)fl_sent_end / fdur, (double)fl_rc_end / fdur, fc->rate_limited, errors, cores,
		     (cpu_s1 - cpu_s0) / (t_meas_end - flood_t0), oth, stl);
	}
	note("latency%s: p50 %.1f p99 %.1f p99.9 %.1f ms, %zu/%d answered, %ld errors, broker %.2f cores",
	     flood ? " + flood" : "", p50, p99, p999, nl, total, errors, cores);
	run_close(&r);
	if (fl_thread)
		run_close(&fw.r);
	broker_stop(&b);
	free(lat);
	for (int i = 0; i < S; i++)
		free_msgs(all[i], per);
	free(all);
	free_msgs(fv, fl_n);
}

/* ------------------------------------------------------------------ 6. ledger verify */

static void
ledger_verify(void)
{
	note("ledger verify: %s", home_a.dir);
	double ref = verify_rate_for(0.5);
	int pfd[2];
	if (pipe(pfd) != 0)
		die("pipe");
	double t0 = now_s();
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(pfd[1], 1);
		close(pfd[0]);
		execl(opt.broker, opt.broker, "--home", home_a.dir, "--json", "ledger", "verify",
		      (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	char buf[4096];
	size_t got = 0;
	ssize_t n;
	while ((n = read(pfd[0], buf + got, sizeof buf - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = 0;
	close(pfd[0]);
	int st = 0;
	struct rusage ru;
	wait4(pid, &st, 0, &ru);
	double el = now_s() - t0;
	double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		     (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	json_error_t je;
	json_t *o = json_loads(buf, 0, &je);
	long long entries = o ? json_integer_value(json_object_get(o, "entries")) : -1;
	bool ok = o && json_is_true(json_object_get(o, "ok"));
	json_decref(o);
	double rate = (double)entries / el;
	add_row("6", "ledger verify: %lld entries, %s", entries, ok ? "OK" : "FAILED");
	SETF(value, "%.0f entries/s (%.2f s, %.2f s CPU); verify rate just before %.0f/s", rate, el, cpu, ref);
	SETF(ratio, "%.2f", rate / ref);
	SETF(target, "≥ 0.80");
	SETF(verdict, "%s", ok && rate / ref >= 0.8 ? "met" : "NOT met");
	note("ledger verify: %s, %lld entries in %.2f s", ok ? "OK" : "FAILED", entries, el);
}

/* ------------------------------------------------------------------ 7. NATS peer */

static void
run_nats(char *rowsbuf, size_t sz)
{
	if (access(opt.nats, X_OK) != 0) {
		note("NATS: %s not built (libnats-dev missing?)", opt.nats);
		return;
	}
	char ns[256] = "", nd[1200], tot[32], win[32], vr[32];
	for (int i = 0; i < opt.n_ns; i++)
		snprintf(ns + strlen(ns), sizeof ns - strlen(ns), "%s%d", i ? "," : "", opt.ns[i]);
	snprintf(nd, sizeof nd, "%s/nats", opt.dir);
	snprintf(tot, sizeof tot, "%d", opt.total);
	snprintf(win, sizeof win, "%d", opt.window);
	snprintf(vr, sizeof vr, "%.0f", verify_rate);
	note("NATS JetStream peer: N=%s", ns);
	int pfd[2];
	if (pipe(pfd) != 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(pfd[1], 1);
		close(pfd[0]);
		execl(opt.nats, opt.nats, "--dir", nd, "--senders", ns, "--total", tot, "--window", win,
		      "--verify-rate", vr, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	size_t got = 0;
	ssize_t n;
	double dl = now_s() + 300;
	while (got < sz - 1 && now_s() < dl) {
		struct pollfd p = { pfd[0], POLLIN, 0 };
		if (poll(&p, 1, 1000) <= 0)
			continue;
		if ((n = read(pfd[0], rowsbuf + got, sz - 1 - got)) <= 0)
			break;
		got += (size_t)n;
	}
	rowsbuf[got] = 0;
	close(pfd[0]);
	if (now_s() >= dl)
		kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

/* ------------------------------------------------------------------ main */

static void
usage(FILE *f)
{
	fputs("usage: irnet-bench --broker PATH [options]\n"
	      "\n"
	      "Benchmark of issue 7: starts real irnet-broker processes on 127.0.0.1 and\n"
	      "drives them with real CURVE clients and signed envelopes; prints a table.\n"
	      "\n"
	      "  --broker PATH        the irnet-broker binary (required)\n"
	      "  --dir DIR            work directory (default: a new /var/tmp/irnet-bench.XXXXXX;\n"
	      "                       the broker homes live there: same filesystem as the baselines)\n"
	      "  --keep               keep the work directory\n"
	      "  --quick              small sizes, < 60 s\n"
	      "  --senders LIST       ingest runs, e.g. 1,10,100,1000 (default)\n"
	      "  --no-hello N         one more ingest run with N senders that send no Hello\n"
	      "  --overload N         one more ingest run (once): N senders each send 1.5 x W at\n"
	      "                       once, more than the broker queues (N = 1000: 96 000\n"
	      "                       submissions, 64 000 in flight; the broker pauses reading);\n"
	      "                       default: the first --senders N >= 1000, if any; 0: none\n"
	      "  --repeat N           ingest again with N senders after every other run, on the\n"
	      "                       grown ledger (default 10; 0: no)\n"
	      "  --window W           submissions in flight per sender (64; without --window the\n"
	      "                       N = 1 run is repeated with irnet-node's window, 1000)\n"
	      "  --runs K             run each ingest configuration K times; the table keeps\n"
	      "                       the median run and lists every run's ratio (3; --quick 1)\n"
	      "  --total M            messages per ingest run (20000; N=1: --total-n1, 10000)\n"
	      "  --total-n1 M\n"
	      "  --lat-rate R --lat-senders S --lat-seconds T   (1000, 10, 10)\n"
	      "  --flood-rate R       flooder's offered load, msg/s, open loop (20000)\n"
	      "  --flood-limits LIST  member_rate of the broker in each flood run; \"default\"\n"
	      "                       keeps the broker's own default (default,1000000)\n"
	      "  --member-rate R      member_rate for every other run (1000000: measure the\n"
	      "                       broker, not its per-member limit; 0: broker default)\n"
	      "  --e2e M              messages end to end (10000)\n"
	      "  --node PATH          irnet-node, for the end-to-end row with two real node\n"
	      "                       daemons (default: irnet-node beside --broker, if there)\n"
	      "  --verify-entries N   before 'verify', grow ledger A to N entries with one long\n"
	      "                       ingest run of 10 senders (a sustained-ingest row too;\n"
	      "                       1000000; --quick and 0: verify the ledger as it is)\n"
	      "  --scale N            members connected at once in the scale phase (10000;\n"
	      "                       --quick 2000): broker memory per member, CPU for their\n"
	      "                       heartbeats, time for all to reconnect after a restart\n"
	      "  --base-seconds T     per baseline measurement (2)\n"
	      "  --verify-receipts    senders also verify every receipt (costs bench CPU)\n"
	      "  --only LIST          phases: base,ingest,control,e2e,lat,flood,verify,scale\n"
	      "                       (control: ingest N=10 and 100 with the broker's fsync\n"
	      "                       OFF, the like-for-like figure beside NATS JetStream)\n"
	      "  --log-level L        broker's log level in irnet.conf (info, the default config)\n"
	      "  --perf DIR           perf record (cpu-clock, dwarf) the broker of each phase\n"
	      "  --nats PATH          run irnet-bench-nats (NATS JetStream peer baseline) too\n"
	      "  --label TEXT         printed in the header (run.sh: the git revision)\n",
	      f);
}

static void
parse_ns(const char *s)
{
	opt.n_ns = 0;
	char buf[256];
	snprintf(buf, sizeof buf, "%s", s);
	for (char *sv = NULL, *t = strtok_r(buf, ",", &sv); t && opt.n_ns < MAX_NS;
	     t = strtok_r(NULL, ",", &sv))
		opt.ns[opt.n_ns++] = atoi(t);
}

/* ------------------------------------------------------------------ scale: many idle members */


static void
send_hb(conn *c)
{
	Irnet__Heartbeat hb = IRNET__HEARTBEAT__INIT;
	hb.time_ms = irn_now_ms();
	hb.roster_version = roster->version;
	Irnet__Packet p = IRNET__PACKET__INIT;
	p.p_case = IRNET__PACKET__P_HEARTBEAT;
	p.heartbeat = &hb;
	irn_packet_send(c->s, NULL, 0, &p);
}

static void
send_hello(conn *c)
{
	Irnet__Hello hl = IRNET__HELLO__INIT;
	hl.version = IRN_PROTOCOL_VERSION;
	hl.roster_version = roster->version;
	Irnet__Packet p = IRNET__PACKET__INIT;
	p.p_case = IRNET__PACKET__P_HELLO;
	p.hello = &hl;
	irn_packet_send(c->s, NULL, 0, &p);
}

/* A child process holding members [first, first + count): Hello, Welcome,
 * then idle with a Heartbeat every heartbeat_ms (as the node does). On 'R'
 * from the parent (the broker restarted) it sends Hello again on every
 * connection (the DEALER reconnects by itself) and reports when all are
 * welcomed again; on 'Q' it exits. Reports: "W n seconds\n", "R n seconds\n". */
static void
scale_child(const bhome *bh, int first, int count, int hb_ms, int cmd_fd, int rep_fd)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	run r;
	run_open(&r, bh, count);
	zmq_ctx_set(r.ctx, ZMQ_MAX_SOCKETS, count + 64);
	double t0 = now_s();
	for (int i = 0; i < count; i++)
		conn_connect(&r, i, &ops[first + i], C_SENDER, true, 0);
	wait_welcomes(&r, 120);
	int w = 0;
	for (int i = 0; i < count; i++)
		w += r.c[i].welcomed;
	dprintf(rep_fd, "W %d %.3f\n", w, now_s() - t0);
	double next_hb = now_s();
	for (;;) {
		struct pollfd pf = { cmd_fd, POLLIN, 0 };
		if (poll(&pf, 1, 0) > 0) {
			char ch = 'Q';
			if (read(cmd_fd, &ch, 1) != 1 || ch == 'Q')
				break;
			double t1 = now_s();
			for (int i = 0; i < count; i++) {
				r.c[i].welcomed = false;
				send_hello(&r.c[i]);
			}
			wait_welcomes(&r, 120);
			w = 0;
			for (int i = 0; i < count; i++)
				w += r.c[i].welcomed;
			dprintf(rep_fd, "R %d %.3f\n", w, now_s() - t1);
		}
		if (now_s() >= next_hb) { /* everyone's heartbeat, spread over the interval */
			for (int i = 0; i < count; i++)
				send_hb(&r.c[i]);
			next_hb += hb_ms / 1000.0;
		}
		poll_all(&r, 50);
	}
	run_close(&r);
	_exit(0);
}

/* Reads one "X n seconds" line from each child; returns the sum of n and
 * the largest seconds. */
static int
scale_collect(int *rep, int k, char want, double *max_s, double timeout)
{
	int total = 0;
	*max_s = 0;
	for (int c = 0; c < k; c++) {
		char line[128];
		size_t got = 0;
		double dl = now_s() + timeout;
		while (got < sizeof line - 1 && now_s() < dl) {
			struct pollfd pf = { rep[c], POLLIN, 0 };
			if (poll(&pf, 1, 200) <= 0)
				continue;
			if (read(rep[c], line + got, 1) != 1)
				break;
			if (line[got++] == '\n')
				break;
		}
		line[got] = 0;
		char x;
		int n;
		double s;
		if (sscanf(line, "%c %d %lf", &x, &n, &s) == 3 && x == want) {
			total += n;
			if (s > *max_s)
				*max_s = s;
		}
	}
	return total;
}

#define SCALE_PER_CHILD 5000 /* descriptors: two per DEALER socket */

static void
scale(int n)
{
	if (n > n_ops - 2)
		n = n_ops - 2;
	const bhome *bh = &home_b;
	int hb_ms = 2000; /* irnet.conf's default heartbeat_ms, the node's interval */
	double idle_s = opt.quick ? 4 : 10;
	note("scale: %d members connect to one broker, idle %.0f s, broker restart...", n, idle_s);
	broker_proc b;
	broker_start(&b, bh, "scale", opt.member_rate);
	usleep(300000);
	long rss0 = proc_rss_kib(b.pid);
	int k = (n + SCALE_PER_CHILD - 1) / SCALE_PER_CHILD;
	int cmd[16], rep[16];
	pid_t kids[16];
	if (k > 16)
		die("--scale: at most %d members", 16 * SCALE_PER_CHILD);
	double t0 = now_s();
	for (int c = 0; c < k; c++) {
		int first = c * SCALE_PER_CHILD, cnt = n - first < SCALE_PER_CHILD ? n - first : SCALE_PER_CHILD;
		int p1[2], p2[2];
		if (pipe(p1) != 0 || pipe(p2) != 0)
			die("pipe");
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			close(p1[1]);
			close(p2[0]);
			scale_child(bh, first, cnt, hb_ms, p1[0], p2[1]);
		}
		close(p1[0]);
		close(p2[1]);
		cmd[c] = p1[1];
		rep[c] = p2[0];
		kids[c] = pid;
	}
	double conn_s;
	int welcomed = scale_collect(rep, k, 'W', &conn_s, 150);
	double t_conn = now_s() - t0;
	usleep(500000);
	long rss1 = proc_rss_kib(b.pid);
	double c0 = broker_cpu(&b), ti0 = now_s();
	cpu_mark m0, m1;
	cpu_mark_take(&m0, c0);
	usleep((useconds_t)(idle_s * 1e6));
	double c1 = broker_cpu(&b), ti1 = now_s();
	cpu_mark_take(&m1, c1);
	double stl, oth = others_cores(&m0, &m1, &stl);
	double idle_cores = (c1 - c0) / (ti1 - ti0);
	add_row("8", "%d members connect to one broker (CURVE, Hello, Welcome; %d client processes)",
		n, k);
	SETF(value, "%d/%d welcomed in %.1f s; broker RSS %ld → %ld KiB: %.1f KiB per member", welcomed,
	     n, t_conn, rss0, rss1, rss1 > rss0 && n ? (double)(rss1 - rss0) / n : 0.0);
	add_row("8", "  all %d idle, a Heartbeat each every %d ms (%.0f/s), %.0f s", n, hb_ms,
		n * 1000.0 / hb_ms, idle_s);
	SETF(value, "broker %.3f cores = %.1f µs per heartbeat / other load %.2f cores", idle_cores,
	     idle_cores * 1e6 / (n * 1000.0 / hb_ms), oth);
	/* restart: the same home and endpoint; every member reconnects by itself */
	broker_stop(&b);
	double tr = now_s();
	broker_start(&b, bh, "scale-restart", opt.member_rate);
	double t_ready = now_s();
	for (int c = 0; c < k; c++)
		if (write(cmd[c], "R", 1) != 1)
			die("scale child gone");
	double rs;
	int back = scale_collect(rep, k, 'R', &rs, 150);
	double t_back = now_s();
	add_row("8", "  broker restarted: all %d reconnect and are welcomed again", n);
	SETF(value, "%d/%d in %.1f s after the restart began (%.1f s after READY); broker CPU %.2f s",
	     back, n, t_back - tr, t_back - t_ready, broker_cpu(&b) - b.cpu0);
	for (int c = 0; c < k; c++) {
		if (write(cmd[c], "Q", 1) != 1) {
			/* gone already */
		}
		close(cmd[c]);
	}
	for (int c = 0; c < k; c++) {
		waitpid(kids[c], NULL, 0);
		close(rep[c]);
	}
	broker_stop(&b);
}

int
main(int argc, char **argv)
{
	if (irn_global_init() != 0)
		die("libsodium");
	irn_log_init("irnet-bench", IRN_LOG_WARN, false);
	opt.window = 64;
	opt.total = 20000;
	opt.total_n1 = 10000;
	opt.lat_rate = 1000;
	opt.lat_senders = 10;
	opt.lat_seconds = 10;
	opt.flood_rate = 20000;
	snprintf(opt.flood_limits, sizeof opt.flood_limits, "default,1000000");
	opt.member_rate = 1000000;
	opt.e2e_total = 10000;
	opt.scale_n = 10000;
	opt.verify_entries = 1000000;
	opt.base_seconds = 2;
	opt.log_level = "info";
	parse_ns("1,10,100,1000");
	opt.repeat_n = 10;
	opt.runs = 3;
	opt.overload_n = -1;
	const char *senders = NULL;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--quick")) {
			opt.quick = true;
			parse_ns("1,10,100");
			opt.total = 3000;
			opt.total_n1 = 2000;
			opt.lat_seconds = 3;
			opt.e2e_total = 2000;
			opt.scale_n = 2000;
			opt.base_seconds = 0.5;
			opt.repeat_n = 0;
			opt.verify_entries = 0;
			opt.runs = 1;
		}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name) (!strcmp(a, name) && v && (i++, 1))
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--quick")) {
			opt.quick = true;
		} else if (!strcmp(a, "--keep")) {
			opt.keep = true;
		} else if (!strcmp(a, "--verify-receipts")) {
			opt.verify_receipts = true;
		} else if (ARG("--broker")) {
			opt.broker = v;
		} else if (ARG("--node")) {
			snprintf(opt.node, sizeof opt.node, "%s", v);
		} else if (ARG("--dir")) {
			snprintf(opt.dir, sizeof opt.dir, "%s", v);
		} else if (ARG("--senders")) {
			senders = v;
		} else if (ARG("--repeat")) {
			opt.repeat_n = atoi(v);
		} else if (ARG("--no-hello")) {
			opt.no_hello_n = atoi(v);
		} else if (ARG("--overload")) {
			opt.overload_n = atoi(v);
		} else if (ARG("--runs")) {
			opt.runs = atoi(v);
		} else if (ARG("--window")) {
			opt.window = atoi(v);
			opt.window_set = true;
		} else if (ARG("--total")) {
			opt.total = atoi(v);
		} else if (ARG("--total-n1")) {
			opt.total_n1 = atoi(v);
		} else if (ARG("--lat-rate")) {
			opt.lat_rate = atoi(v);
		} else if (ARG("--lat-senders")) {
			opt.lat_senders = atoi(v);
		} else if (ARG("--lat-seconds")) {
			opt.lat_seconds = atof(v);
		} else if (ARG("--flood-rate")) {
			opt.flood_rate = atoi(v);
		} else if (ARG("--flood-limits")) {
			snprintf(opt.flood_limits, sizeof opt.flood_limits, "%s", v);
		} else if (ARG("--member-rate")) {
			opt.member_rate = atoi(v);
		} else if (ARG("--verify-entries")) {
			opt.verify_entries = atol(v);
		} else if (ARG("--scale")) {
			opt.scale_n = atoi(v);
		} else if (ARG("--e2e")) {
			opt.e2e_total = atoi(v);
		} else if (ARG("--base-seconds")) {
			opt.base_seconds = atof(v);
		} else if (ARG("--only")) {
			opt.only = v;
		} else if (ARG("--log-level")) {
			opt.log_level = v;
		} else if (ARG("--label")) {
			opt.label = v;
		} else if (ARG("--nats")) {
			opt.nats = v;
		} else if (ARG("--perf")) {
			opt.perf_dir = v;
		} else {
			usage(stderr);
			return 2;
		}
#undef ARG
	}
	if (senders)
		parse_ns(senders);
	if (!opt.broker || access(opt.broker, X_OK) != 0) {
		usage(stderr);
		return 2;
	}
	if (opt.window < 1 || opt.total < 1 || opt.lat_rate < 1 || opt.lat_senders < 1 ||
	    opt.lat_seconds <= 0 || opt.e2e_total < 1 || opt.base_seconds <= 0 ||
	    opt.flood_rate < 1 || opt.member_rate < 0 || opt.n_ns < 1) {
		usage(stderr);
		return 2;
	}
	/* 1000 connections: raise the descriptor limit (inherited by the broker). */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	getrlimit(RLIMIT_NOFILE, &rl);
	bool made_dir = false;
	if (!opt.node[0]) { /* irnet-node beside the broker, if it is there */
		const char *sl = strrchr(opt.broker, '/');
		snprintf(opt.node, sizeof opt.node, "%.*sirnet-node", sl ? (int)(sl - opt.broker + 1) : 0,
			 opt.broker);
		if (access(opt.node, X_OK) != 0)
			opt.node[0] = 0;
	}
	if (!opt.dir[0]) {
		snprintf(opt.dir, sizeof opt.dir, "/var/tmp/irnet-bench.XXXXXX");
		if (!mkdtemp(opt.dir))
			die("mkdtemp: %s", strerror(errno));
		made_dir = true;
	} else if (irn_mkdir_p(opt.dir, 0700) != IRN_OK) {
		die("cannot create %s", opt.dir);
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	atexit(kill_live);

	int max_n = opt.lat_senders;
	for (int i = 0; i < opt.n_ns; i++)
		if (opt.ns[i] > max_n)
			max_n = opt.ns[i];
	if (opt.no_hello_n > max_n)
		max_n = opt.no_hello_n;
	if (opt.overload_n > max_n)
		max_n = opt.overload_n;

	if ((rlim_t)max_n * 3 + 64 > rl.rlim_cur)
		note("RLIMIT_NOFILE %llu may be too low for %d connections",
		     (unsigned long long)rl.rlim_cur, max_n);
	if (phase_on("scale") && opt.scale_n > max_n) /* its clients live in child processes */
		max_n = opt.scale_n;
	if (phase_on("scale") && (rlim_t)opt.scale_n + 256 > rl.rlim_cur)
		note("RLIMIT_NOFILE %llu is too low for the broker's %d connections",
		     (unsigned long long)rl.rlim_cur, opt.scale_n);
	time_t wall = time(NULL);
	double T0 = now_s();
	setup(max_n);

	if (phase_on("base")) {
		note("baselines (%.1f s each)...", opt.base_seconds);
		cpu_mark m0, m1;
		cpu_mark_take(&m0, 0);
		bench_crypto();
		bench_sqlite();
		bench_fsync();
		cpu_mark_take(&m1, 0);
		double stl, oth = others_cores(&m0, &m1, &stl);
		add_row("1", "  other load on the machine during the baselines");
		SETF(value, "%.2f cores, steal %.2f", oth, stl);
	} else {
		/* the ratios need the verify rate */
		double sv = opt.base_seconds;
		opt.base_seconds = 0.5;
		int keep = n_rows;
		bench_crypto();
		n_rows = keep;
		opt.base_seconds = sv;
		fsync_p99 = NAN;
	}
	double r10 = 0;
	if (phase_on("ingest")) {
		for (int i = 0; i < opt.n_ns && !stop_flag; i++) {
			double rt = ingest_rep(opt.ns[i], true, opt.ns[i] == 1 ? opt.total_n1 : opt.total);
			if (opt.ns[i] == 10 || r10 == 0)
				r10 = rt;
			if (opt.ns[i] == 1 && !opt.window_set && !stop_flag) {
				ingest_w = NODE_OUTBOX_WINDOW;
				ingest_rep(1, true, opt.total_n1);
				ingest_w = 0;
			}
		}
		if (opt.no_hello_n > 0 && !stop_flag)
			ingest(opt.no_hello_n, false, opt.total);
		int on = opt.overload_n;
		for (int i = 0; on < 0 && i < opt.n_ns; i++)
			if (opt.ns[i] >= 1000)
				on = opt.ns[i];
		if (on > 0 && !stop_flag) {
			/* a province under attack: every member bursts a window and a
			 * half at once; more is in flight than the broker queues */
			overload_run = true;
			ingest(on, true, on * (ingest_w ? ingest_w : opt.window) * 3 / 2);
			overload_run = false;
		}
	}
	if (phase_on("control") && !stop_flag) {
		/* irnet without fsync: the figure to set beside NATS JetStream 2.9,
		 * which acknowledges before fsync (its sync_interval is 2 min) */
		nofsync_control = true;
		for (int n = 10; n <= 100 && !stop_flag; n *= 10)
			ingest_rep(n, true, opt.total);
		nofsync_control = false;
	}
	if (phase_on("e2e") && !stop_flag)
		e2e(false);
	if (phase_on("e2e") && !stop_flag)
		e2e(true);
	if (phase_on("e2e") && opt.node[0] && !stop_flag)
		e2e_real();
	if (phase_on("lat") && !stop_flag)
		latency(&home_c, -1, 0);
	if (phase_on("flood") && !stop_flag) {
		if (!phase_on("lat"))
			nofl_p99 = NAN;
		char buf[128];
		snprintf(buf, sizeof buf, "%s", opt.flood_limits);
		for (char *sv = NULL, *t = strtok_r(buf, ",", &sv); t && !stop_flag;
		     t = strtok_r(NULL, ",", &sv))
			latency(&home_c, strcmp(t, "default") == 0 ? 0 : atoi(t), r10 > 0 ? r10 : 4000);
		if (!stop_flag) {
			flood_windowed = true;
			latency(&home_c, 1000000, r10 > 0 ? r10 : 15000);
			flood_windowed = false;
		}
	}
	if (phase_on("ingest") && opt.repeat_n > 0 && !stop_flag)
		ingest(opt.repeat_n, true, opt.total);
	if (phase_on("ingest") && phase_on("lat") && opt.repeat_n > 0 && !stop_flag)
		latency(&home_a, -1, 0); /* the same load on the ledger the ingest runs grew */
	if (phase_on("verify") && !stop_flag) {
		long long have = ledger_q(&home_a, "SELECT count(*) FROM ledger");
		if (have >= 0 && have < opt.verify_entries) /* sustained ingest up to the size */
			ingest(10, true, (int)(opt.verify_entries - have));
		ledger_verify();
	}
	if (phase_on("scale") && opt.scale_n > 0 && !stop_flag)
		scale(opt.scale_n);
	if (!stop_flag) { /* the reference again: is this machine steady? */
		int keep = n_rows;
		double v0 = verify_rate;
		bench_verify();
		n_rows = keep;
		add_row("1", "Ed25519 verify measured again at the end (steadiness check)");
		SETF(value, "%.0f /s", verify_rate);
		SETF(ratio, "%.2f", verify_rate / v0);
		verify_rate = v0;
	}

	static char nats_rows[8192];
	if (opt.nats && phase_on("nats") && !stop_flag)
		run_nats(nats_rows, sizeof nats_rows);

	/* the table */
	char date[64];
	strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&wall));
	char host[128] = "";
	gethostname(host, sizeof host - 1);
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	printf("\nirnet-bench %s, %s, %ld cores, %s%s%s%s, %.0f s\n", date, host, cores, opt.broker,
	       opt.label ? " " : "", opt.label ? opt.label : "", opt.quick ? " --quick" : "",
	       now_s() - T0);
	if (opt.member_rate)
		printf("broker irnet.conf: member_rate = %d (the per-member submission limit, raised so "
		       "that the broker is measured, not its limit) except where a row says otherwise\n\n",
		       opt.member_rate);
	else
		printf("broker irnet.conf: its defaults\n\n");
	printf("| # | measurement | result | ratio | target | verdict |\n");
	printf("|---|---|---|---|---|---|\n");
	for (int i = 0; i < n_rows; i++)
		printf("| %s | %s | %s | %s | %s | %s |\n", rows[i].sect, rows[i].what, rows[i].value,
		       rows[i].ratio, rows[i].target, rows[i].verdict);
	if (opt.nats && !nats_rows[0])
		printf("| 7 | NATS JetStream peer baseline | not available (see stderr) |  |  |  |\n");
	fputs(nats_rows, stdout);
	printf("\nratio: to the one-core Ed25519 verify rate (first row) unless stated; the ingest (2), end-to-end\n"
	       "(3) and ledger verify (6) rows to the same rate measured again just before each run (this\n"
	       "machine's speed drifts).\n");
	if (!made_dir || opt.keep || opt.perf_dir)
		printf("broker homes and logs kept in %s\n", opt.dir);
	fflush(stdout);
	kill_live();
	if (made_dir && !opt.keep && !opt.perf_dir) {
		char cmd[1200];
		snprintf(cmd, sizeof cmd, "rm -rf -- '%s'", opt.dir);
		if (system(cmd) != 0)
			note("could not remove %s", opt.dir);
	}
	irn_roster_free(&roster);
	return stop_flag ? 1 : 0;
}
