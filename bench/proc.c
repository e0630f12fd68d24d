/* proc.c - see proc.h. */
#include "proc.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdio.h>

/* The start of /proc/PID/FILE, NUL-terminated; -1 if the process is gone. */
static ssize_t
proc_read(pid_t pid, const char *file, char *buf, size_t size)
{
	char p[64];
	snprintf(p, sizeof p, "/proc/%d/%s", (int)pid, file);
	int fd = open(p, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return n;
}

double
proc_cpu(pid_t pid)
{
	char buf[2048];
	if (proc_read(pid, "stat", buf, sizeof buf) < 0)
		return -1;
	char *s = strrchr(buf, ')');
	if (!s)
		return -1;
	/* after ")": field 3 is state; utime is field 14, stime 15 */
	unsigned long long ut = 0, st = 0;
	int field = 2;
	for (char *t = s + 1; *t && field < 15;) {
		while (*t == ' ')
			t++;
		field++;
		if (field == 14)
			ut = strtoull(t, NULL, 10);
		if (field == 15)
			st = strtoull(t, NULL, 10);
		while (*t && *t != ' ')
			t++;
	}
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

long
proc_rss_kib(pid_t pid)
{
	char buf[4096];
	if (proc_read(pid, "status", buf, sizeof buf) < 0)
		return -1;
	char *s = strstr(buf, "VmRSS:");
	return s ? strtol(s + 6, NULL, 10) : -1;
}
