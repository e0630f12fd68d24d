/* proc.h - what /proc says about a process, for the benchmarks (irnet-bench
 * and irnet-bench-nats measure their servers the same way). */
#ifndef IRNET_BENCH_PROC_H
#define IRNET_BENCH_PROC_H
#include <sys/types.h>

/* utime + stime of a process, in seconds (-1 if gone). */
double proc_cpu(pid_t pid);
/* Resident memory of a process, in KiB (-1 if gone). */
long proc_rss_kib(pid_t pid);
#endif
