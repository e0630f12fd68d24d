/* irnet-bench-nats - peer baseline for issue 7: NATS JetStream ingest.
 *
 * Starts its own nats-server (JetStream, file storage, 127.0.0.1 on a free
 * port, store in the work directory), then for each N: N connections, each
 * with up to W asynchronous publishes awaiting their JetStream ack, ~M
 * messages of B bytes in all. Reports acks/s, the stream's message count
 * (must equal the acks) and the server's CPU time. Prints table rows in the
 * format irnet-bench uses.
 *
 * Not like for like: nats-server acknowledges once the message is in its
 * file store buffers; before 2.10 it cannot be told to fsync every write
 * (its sync_interval defaults to 2 minutes). irnet's receipt means fsynced,
 * signature-checked and hash-chained. Bounded in time; stops its server.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <nats/nats.h>
#include "proc.h"

typedef struct sender {
	natsConnection *nc;
	jsCtx *js;
	_Atomic long acked, failed;
	long sent;
} sender;

static _Atomic long g_acked;
static _Atomic long long g_last_ack_ns;
static pid_t server_pid;

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
kill_server(void)
{
	if (server_pid > 0) {
		kill(server_pid, SIGTERM);
		for (int i = 0; i < 50 && waitpid(server_pid, NULL, WNOHANG) != server_pid; i++)
			usleep(100000);
		kill(server_pid, SIGKILL);
		waitpid(server_pid, NULL, WNOHANG);
		server_pid = 0;
	}
}

static void
die(const char *m)
{
	fprintf(stderr, "irnet-bench-nats: %s\n", m);
	kill_server();
	exit(1);
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
		die("no free port");
	close(fd);
	return ntohs(a.sin_port);
}

static void
on_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
	(void)js;
	sender *s = closure;
	if (pa && !pae) {
		atomic_fetch_add(&s->acked, 1);
		atomic_fetch_add(&g_acked, 1);
		atomic_store(&g_last_ack_ns, (long long)(now_s() * 1e9));
	} else {
		atomic_fetch_add(&s->failed, 1);
	}
	natsMsg_Destroy(msg);
}

static void
run(const char *url, int N, int W, int total, int bytes, double base_verify)
{
	int per = (total + N - 1) / N;
	sender *ss = calloc((size_t)N, sizeof *ss);
	char stream[32], subj[64];
	snprintf(stream, sizeof stream, "BENCH%d", N);
	for (int i = 0; i < N; i++) {
		natsOptions *o = NULL;
		natsOptions_Create(&o);
		natsOptions_SetURL(o, url);
		natsOptions_UseGlobalMessageDelivery(o, true);
		natsOptions_SetTimeout(o, 10000);
		if (natsConnection_Connect(&ss[i].nc, o) != NATS_OK)
			die("connect failed");
		natsOptions_Destroy(o);
		jsOptions jo;
		jsOptions_Init(&jo);
		jo.PublishAsync.MaxPending = W;
		jo.PublishAsync.AckHandler = on_ack;
		jo.PublishAsync.AckHandlerClosure = &ss[i];
		if (natsConnection_JetStream(&ss[i].js, ss[i].nc, &jo) != NATS_OK)
			die("JetStream context failed");
	}
	jsStreamConfig cfg;
	jsStreamConfig_Init(&cfg);
	snprintf(subj, sizeof subj, "bench.%d.>", N);
	const char *subjects[1] = { subj };
	cfg.Name = stream;
	cfg.Subjects = subjects;
	cfg.SubjectsLen = 1;
	cfg.Storage = js_FileStorage;
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	if (js_AddStream(&si, ss[0].js, &cfg, NULL, &jerr) != NATS_OK)
		die("cannot create the stream");
	jsStreamInfo_Destroy(si);
	char *payload = malloc((size_t)bytes);
	for (int i = 0; i < bytes; i++)
		payload[i] = (char)('a' + i % 26);
	atomic_store(&g_acked, 0);
	pid_t sp = server_pid;
	double c0 = proc_cpu(sp);
	struct rusage r0, r1;
	getrusage(RUSAGE_SELF, &r0);
	double t0 = now_s(), last = t0;
	long want = (long)N * per, prev = 0;
	for (;;) {
		bool any = false;
		for (int i = 0; i < N; i++) {
			sender *s = &ss[i];
			while (s->sent < per && s->sent - atomic_load(&s->acked) - atomic_load(&s->failed) < W) {
				char sj[64];
				snprintf(sj, sizeof sj, "bench.%d.%d", N, i);
				if (js_PublishAsync(s->js, sj, payload, bytes, NULL) != NATS_OK)
					break;
				s->sent++;
				any = true;
			}
		}
		long a = atomic_load(&g_acked), f = 0;
		for (int i = 0; i < N; i++)
			f += atomic_load(&ss[i].failed);
		if (a + f >= want)
			break;
		if (a != prev) {
			prev = a;
			last = now_s();
		} else if (now_s() - last > 10) {
			fprintf(stderr, "irnet-bench-nats: N=%d: no progress for 10 s at %ld/%ld\n", N, a, want);
			break;
		}
		if (!any)
			usleep(100);
	}
	double t1 = (double)atomic_load(&g_last_ack_ns) / 1e9;
	double c1 = proc_cpu(sp);
	getrusage(RUSAGE_SELF, &r1);
	double bench_cpu = (double)(r1.ru_utime.tv_sec - r0.ru_utime.tv_sec) +
			   (double)(r1.ru_utime.tv_usec - r0.ru_utime.tv_usec) / 1e6 +
			   (double)(r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) +
			   (double)(r1.ru_stime.tv_usec - r0.ru_stime.tv_usec) / 1e6;
	long acked = atomic_load(&g_acked), failed = 0;
	for (int i = 0; i < N; i++)
		failed += atomic_load(&ss[i].failed);
	uint64_t stored = 0;
	if (js_GetStreamInfo(&si, ss[0].js, stream, NULL, &jerr) == NATS_OK) {
		stored = si->State.Msgs;
		jsStreamInfo_Destroy(si);
	}
	double el = t1 - t0, rate = el > 0 ? (double)acked / el : 0;
	char ratio[32] = "";
	if (base_verify > 0)
		snprintf(ratio, sizeof ratio, "%.2f", rate / base_verify);
	printf("| 7 | NATS JetStream 2.9, file storage, acks NOT fsynced: N=%d, W=%d, %ld acks%s | "
	       "%.0f msg/s in %.2f s; stream holds %llu (%s); CPU server %.2f s, bench %.2f s | %s |  |  |\n",
	       N, W, acked, failed ? ", FAILURES" : "", rate, el, (unsigned long long)stored,
	       stored == (uint64_t)acked ? "= acks" : "≠ acks", c1 - c0, bench_cpu, ratio);
	fflush(stdout);
	fprintf(stderr, "irnet-bench-nats: N=%d: %.0f msg/s, %ld acks, %ld failed, %llu stored\n", N,
		rate, acked, failed, (unsigned long long)stored);
	for (int i = 0; i < N; i++) {
		js_PublishAsyncComplete(ss[i].js, NULL);
		jsCtx_Destroy(ss[i].js);
		natsConnection_Destroy(ss[i].nc);
	}
	free(ss);
	free(payload);
}

int
main(int argc, char **argv)
{
	const char *server = "nats-server", *dir = NULL, *list = "1,10,100";
	int W = 64, total = 20000, bytes = 270;
	double base_verify = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--server") && v)
			server = v, i++;
		else if (!strcmp(a, "--dir") && v)
			dir = v, i++;
		else if (!strcmp(a, "--senders") && v)
			list = v, i++;
		else if (!strcmp(a, "--window") && v)
			W = atoi(v), i++;
		else if (!strcmp(a, "--total") && v)
			total = atoi(v), i++;
		else if (!strcmp(a, "--bytes") && v)
			bytes = atoi(v), i++;
		else if (!strcmp(a, "--verify-rate") && v)
			base_verify = atof(v), i++;
		else {
			fprintf(stderr, "usage: irnet-bench-nats --dir DIR [--server nats-server] "
					"[--senders 1,10,100] [--window 64] [--total 20000] [--bytes 270] "
					"[--verify-rate R]\n");
			return 2;
		}
	}
	if (!dir || W < 1 || total < 1 || bytes < 1)
		die("--dir is required; sizes must be positive");
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	mkdir(dir, 0700);
	int port = free_port();
	char conf[1024], url[64], store[900];
	snprintf(store, sizeof store, "%s/jetstream", dir);
	snprintf(conf, sizeof conf, "%s/nats.conf", dir);
	FILE *f = fopen(conf, "w");
	if (!f)
		die("cannot write nats.conf");
	fprintf(f, "listen: 127.0.0.1:%d\njetstream { store_dir: \"%s\" }\n", port, store);
	fclose(f);
	snprintf(url, sizeof url, "nats://127.0.0.1:%d", port);
	atexit(kill_server);
	signal(SIGPIPE, SIG_IGN);
	server_pid = fork();
	if (server_pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		char lp[1024];
		snprintf(lp, sizeof lp, "%s/nats-server.log", dir);
		int lf = open(lp, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (lf >= 0) {
			dup2(lf, 1);
			dup2(lf, 2);
		}
		execlp(server, server, "-c", conf, (char *)NULL);
		_exit(127);
	}
	nats_Open(-1);
	nats_SetMessageDeliveryPoolSize(2);
	natsConnection *probe = NULL;
	for (int i = 0; i < 100 && natsConnection_ConnectTo(&probe, url) != NATS_OK; i++)
		usleep(100000);
	if (!probe)
		die("nats-server did not come up");
	natsConnection_Destroy(probe);
	char buf[256];
	snprintf(buf, sizeof buf, "%s", list);
	for (char *sv = NULL, *t = strtok_r(buf, ",", &sv); t; t = strtok_r(NULL, ",", &sv))
		run(url, atoi(t), W, total, bytes, base_verify);
	kill_server();
	nats_Close();
	return 0;
}
