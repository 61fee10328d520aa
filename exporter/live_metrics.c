/* live_metrics.c - /metrics of the live path (not yet). */
#include "live_int.h"

int live_metrics_start(struct live *l, char *err, size_t errlen)
{
	(void)l;
	(void)err;
	(void)errlen;
	return 0;
}

void live_metrics_publish(struct live *l)
{
	(void)l;
}

void live_metrics_stop(struct live *l)
{
	(void)l;
}
