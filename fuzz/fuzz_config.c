/* fuzz_config - irn_config_load on a file holding the input. The file is
 * /tmp/irnet-fuzz-config.<pid>.ini, rewritten for each input and removed at
 * exit. */
#include "fuzz_common.h"
#include "home.h"
#include "validate.h"

#include <string.h>
#include <unistd.h>

static char path[64];

static void
cleanup(void)
{
	if (path[0])
		unlink(path);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(path, sizeof path, "/tmp/irnet-fuzz-config.%d.ini", (int)getpid());
	atexit(cleanup);
	/* irn_config_load logs its refusals; errors still print (fuzz.sh
	 * passes -close_fd_mask=2 to keep them out of the way) */
	irn_log_init("fuzz_config", IRN_LOG_ERROR, false);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	if (f == NULL)
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	if (fclose(f) != 0)
		abort();
	irn_config c;
	irn_err e = irn_config_load(path, &c);
	if (e == IRN_OK) {
		FUZZ_CHECK(irn_member_id_ok(c.id) && irn_network_id_ok(c.network));
		FUZZ_CHECK(memchr(c.broker, 0, sizeof c.broker) && memchr(c.listen, 0, sizeof c.listen));
		FUZZ_CHECK(memchr(c.timezone, 0, sizeof c.timezone) &&
			   memchr(c.person, 0, sizeof c.person) &&
			   memchr(c.report_to, 0, sizeof c.report_to) &&
			   memchr(c.broker_id, 0, sizeof c.broker_id));
		FUZZ_CHECK(c.heartbeat_ms >= 100 && c.heartbeat_ms <= 600000);
		FUZZ_CHECK(c.error_rate >= 1 && c.error_rate <= 100000);
		FUZZ_CHECK((unsigned)c.log_level <= (unsigned)IRN_LOG_DEBUG);
	} else {
		FUZZ_CHECK(e == IRN_ERR_INVALID);
	}
	return 0;
}
