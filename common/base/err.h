/* err.h - the codec's one error enum.
 *
 * Every function of libweir that can fail returns WEIR_OK (0) or one of these
 * negative values. The library never prints; callers count each kind (see
 * weir_errname() for a short token fit for a metric label).
 */
#ifndef WEIR_ERR_H
#define WEIR_ERR_H

enum weir_err {
	WEIR_OK			= 0,
	WEIR_E_TRUNCATED	= -1,	/* fewer bytes than a header or length needs */
	WEIR_E_VERSION		= -2,	/* unknown protocol version */
	WEIR_E_LENGTH		= -3,	/* message length field disagrees with the datagram */
	WEIR_E_SET_LENGTH	= -4,	/* set/flowset length < 4 or past the message */
	WEIR_E_COUNT		= -5,	/* record count disagrees with the bytes (v5, v9) */
	WEIR_E_TEMPLATE		= -6,	/* malformed template or options template */
	WEIR_E_NO_TEMPLATE	= -7,	/* data set whose template is unknown */
	WEIR_E_VARLEN		= -8,	/* variable-length field runs past its record */
	WEIR_E_LIST		= -9,	/* malformed RFC 6313 list */
	WEIR_E_NESTING		= -10,	/* list nesting deeper than the bound */
	WEIR_E_RECORD		= -11,	/* sFlow sample/record length overflows its container */
	WEIR_E_LIMIT		= -12,	/* a configured bound refused the item */
	WEIR_E_NOMEM		= -13,	/* allocation failed */
	WEIR_E_NOSPACE		= -14,	/* encoder: output buffer too small */
	WEIR_E_INVALID		= -15,	/* invalid argument or value */
	WEIR_E_IO		= -16,	/* file read/write failed */
	WEIR_E_PARSE		= -17,	/* text (CSV, template file) does not parse */
	WEIR_E_PADDING		= -18,	/* set trailer is not valid padding */
	WEIR_E_STOPPED		= -19,	/* the record callback asked to stop */
};

#define WEIR_E_MAX 20	/* number of kinds, WEIR_OK included: index by -err */

/* Human sentence for an error value; never NULL. */
const char *weir_strerror(int err);
/* Short lower-case token ("truncated", "set_length", ...); never NULL. */
const char *weir_errname(int err);

#endif
