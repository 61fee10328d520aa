/* decode.c - pick a decoder by the version field of a message. */
#include "decode.h"
#include "rd.h"

uint8_t weir_sniff(const uint8_t *msg, size_t len)
{
	if (len < 4)
		return 0;
	switch (be_uint(msg, 2)) {
	case 5:
		return WEIR_PROTO_NF5;
	case 9:
		return WEIR_PROTO_NF9;
	case 10:
		return WEIR_PROTO_IPFIX;
	case 0:
		/* sFlow's version is a 32-bit XDR integer: 0x00000005. */
		if (be_uint(msg, 4) == 5)
			return WEIR_PROTO_SFLOW;
		break;
	}
	return 0;
}

int weir_decode_as(struct weir_ctx *ctx, uint8_t proto, const struct weir_exporter *e,
		   const uint8_t *msg, size_t len, uint64_t recv_ns)
{
	switch (proto) {
	case WEIR_PROTO_NF5:
		return nf5_decode(ctx, e, msg, len, recv_ns);
	case WEIR_PROTO_NF9:
		return nf9_decode(ctx, e, msg, len, recv_ns);
	case WEIR_PROTO_IPFIX:
		return ipfix_decode(ctx, e, msg, len, recv_ns);
	case WEIR_PROTO_SFLOW:
		return sflow_decode(ctx, e, msg, len, recv_ns);
	}
	return weir_count(ctx, len < 4 ? WEIR_E_TRUNCATED : WEIR_E_VERSION);
}

int weir_decode(struct weir_ctx *ctx, const struct weir_exporter *e,
		const uint8_t *msg, size_t len, uint64_t recv_ns)
{
	return weir_decode_as(ctx, weir_sniff(msg, len), e, msg, len, recv_ns);
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
