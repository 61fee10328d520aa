/* decode.c - pick a decoder by the version field of a message. */
#include "decode.h"
#include "rd.h"

int weir_decode(struct weir_ctx *ctx, const struct weir_exporter *e,
		const uint8_t *msg, size_t len, uint64_t recv_ns)
{
	if (len < 4)
		return weir_count(ctx, WEIR_E_TRUNCATED);
	switch (be_uint(msg, 2)) {
	case 5:
		return nf5_decode(ctx, e, msg, len, recv_ns);
	case 9:
		return nf9_decode(ctx, e, msg, len, recv_ns);
	case 10:
		return ipfix_decode(ctx, e, msg, len, recv_ns);
	case 0:
		/* sFlow's version is a 32-bit XDR integer: 0x00000005. */
		if (be_uint(msg, 4) == 5)
			return sflow_decode(ctx, e, msg, len, recv_ns);
		break;
	}
	return weir_count(ctx, WEIR_E_VERSION);
}

const char *weir_quirk_name(int quirk)
{
	static const char *const names[WEIR_Q_MAX] = {
		[WEIR_Q_NF9_COUNT_FLOWSETS] = "nf9_count_flowsets",
		[WEIR_Q_NF9_COUNT_DATA] = "nf9_count_data",
		[WEIR_Q_SEQ_CONVENTION] = "sequence_convention",
	};

	return quirk >= 0 && quirk < WEIR_Q_MAX ? names[quirk] : "unknown";
}
