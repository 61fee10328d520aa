/* tmpl_seq.c - sequence-number tracking per source (tmpl.h: tmpl_seq_check,
 * tmpl_seq_check_records): gaps, losses and late datagrams, and the IPFIX
 * numbering conventions real exporters use, told apart from losses and
 * counted once as a quirk.
 */
#include <stdint.h>

#include "cnt.h"
#include "tmpl.h"
#include "tmpl_int.h"


/* seq against the expected next: a gap (the units missing), in order (0),
 * or behind (late, or the exporter restarted). */
static uint64_t seq_account(struct tmpl_source *s, uint32_t seq, uint32_t expected)
{
	uint32_t d = seq - expected;

	if (d == 0)
		return 0;
	/* Read by other threads (tmpl_cache_source): relaxed stores. */
	if (d < 0x80000000u) {
		cnt_add(&s->seq_gaps, 1);
		cnt_add(&s->seq_lost, d);
		return d;
	}
	/* Behind what we expected: late (reordered) or the exporter restarted. */
	if (expected - seq <= TMPL_SEQ_RESET)
		cnt_add(&s->seq_reordered, 1);
	return 0;
}

uint64_t tmpl_seq_check(struct tmpl_source *s, uint32_t seq, uint32_t step)
{
	uint64_t lost = 0;

	if (s->seq_valid) {
		uint32_t expected = s->seq_next;

		lost = seq_account(s, seq, expected);
		/* A late datagram does not move the expectation back. */
		if (seq - expected >= 0x80000000u && expected - seq <= TMPL_SEQ_RESET)
			return 0;
	}
	s->seq_valid = 1;
	s->seq_next = seq + step;
	return lost;
}

/* The IPFIX conventions met in the field (tmpl_seq_check_records). */
enum {
	SEQ_RFC = 0,		/* records sent before this message */
	SEQ_FLOWS,		/* the same, options records left out */
	SEQ_INCL,		/* records sent up to and with this message */
	SEQ_INCL_FLOWS,		/* the same, options records left out (softflowd) */
	SEQ_MODES
};

static uint32_t seq_expect(const struct tmpl_source *s, int mode, uint32_t nall, uint32_t nflow)
{
	switch (mode) {
	case SEQ_FLOWS:
		return s->seq_last + s->seq_last_nflow;
	case SEQ_INCL:
		return s->seq_last + nall;
	case SEQ_INCL_FLOWS:
		return s->seq_last + nflow;
	}
	return s->seq_last + s->seq_last_nall;
}

int tmpl_seq_check_records(struct tmpl_source *s, uint32_t seq, uint32_t nall, uint32_t nflow)
{
	int quirk = 0;

	if (s->seq_valid) {
		uint32_t expected = seq_expect(s, s->seq_mode, nall, nflow);

		/* A number that fits another convention and not the source's
		 * is that convention, not a loss. The first message with
		 * options records tells the two counts apart: a source can
		 * move from one convention to its sibling later; the quirk
		 * counts once, when it leaves the RFC's. */
		if (seq != expected) {
			for (int m = SEQ_RFC; m < SEQ_MODES; m++) {
				if (m != s->seq_mode && seq == seq_expect(s, m, nall, nflow)) {
					quirk = s->seq_mode == SEQ_RFC;
					s->seq_mode = (uint8_t)m;
					expected = seq;
					break;
				}
			}
		}
		seq_account(s, seq, expected);
		if (seq - expected >= 0x80000000u && expected - seq <= TMPL_SEQ_RESET)
			return quirk;	/* late: keep the expectation */
	}
	s->seq_valid = 1;
	s->seq_last = seq;
	s->seq_last_nall = nall;
	s->seq_last_nflow = nflow;
	s->seq_next = seq_expect(s, SEQ_RFC, 0, 0);
	return quirk;
}
