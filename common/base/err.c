#include "err.h"

static const struct {
	const char *name;
	const char *text;
} err_tab[WEIR_E_MAX] = {
	[0]			= { "ok", "success" },
	[-WEIR_E_TRUNCATED]	= { "truncated", "message truncated" },
	[-WEIR_E_VERSION]	= { "version", "unknown protocol version" },
	[-WEIR_E_LENGTH]	= { "length", "message length disagrees with datagram" },
	[-WEIR_E_SET_LENGTH]	= { "set_length", "set length below 4 or past end of message" },
	[-WEIR_E_COUNT]		= { "count", "record count disagrees with message length" },
	[-WEIR_E_TEMPLATE]	= { "template", "malformed template" },
	[-WEIR_E_NO_TEMPLATE]	= { "no_template", "data set for unknown template" },
	[-WEIR_E_VARLEN]	= { "varlen", "variable-length field past end of record" },
	[-WEIR_E_LIST]		= { "list", "malformed structured data list" },
	[-WEIR_E_NESTING]	= { "nesting", "list nesting deeper than allowed" },
	[-WEIR_E_RECORD]	= { "record", "record length overflows its container" },
	[-WEIR_E_LIMIT]		= { "limit", "configured limit reached" },
	[-WEIR_E_NOMEM]		= { "nomem", "out of memory" },
	[-WEIR_E_NOSPACE]	= { "nospace", "output buffer too small" },
	[-WEIR_E_INVALID]	= { "invalid", "invalid argument" },
	[-WEIR_E_IO]		= { "io", "input/output error" },
	[-WEIR_E_PARSE]		= { "parse", "parse error" },
	[-WEIR_E_PADDING]	= { "padding", "invalid set padding" },
	[-WEIR_E_STOPPED]	= { "stopped", "stopped by callback" },
};

static int err_index(int err)
{
	if (err > 0 || err <= -WEIR_E_MAX)
		return -1;
	return -err;
}

const char *weir_strerror(int err)
{
	int i = err_index(err);

	return i < 0 ? "unknown error" : err_tab[i].text;
}

const char *weir_errname(int err)
{
	int i = err_index(err);

	return i < 0 ? "unknown" : err_tab[i].name;
}
