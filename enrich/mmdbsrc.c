/* mmdbsrc.c - a MaxMind DB file as an enrichment source, through
 * libmaxminddb. See enrich.h and docs/enrichment.md.
 *
 * libmaxminddb checks bounds as it reads, but only what a lookup touches:
 * a database with a broken record elsewhere opens fine and fails later,
 * address by address. A reload must refuse such a file and keep the table
 * it has, so the load walks the whole search tree and decodes every data
 * record once (MaxMind DB spec, "Search Tree Section", "Data Section").
 * After that the database is read-only: lookups from many threads share
 * one MMDB_s without locks.
 *
 * IPv4 lookups, nearly all of a collector's, go through a table of our
 * own: the load walks the IPv4 part of the tree once more, renders each
 * data record's fields once (JSON and CSV, as a lookup would), and puts
 * every IPv4 network into a prefix table (lpm.c) whose value is that text
 * (texts.c): a lookup is then what a CSV source's is, where libmaxminddb
 * walks up to 32 tree nodes and decodes the record each time. IPv6
 * addresses still go through libmaxminddb. A database with more IPv4
 * networks than V4_NETS_MAX keeps libmaxminddb for IPv4 too.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <maxminddb.h>

#include "hash.h"
#include "internal.h"
#include "lpm.h"
#include "txt.h"

#define PATH_MAX_PARTS	(ENRICH_NAME_MAX / 2 + 1)	/* "a.b.c": at most 65 */
#define LIST_DEPTH_MAX	32				/* map/array nesting written */
#define ON_STACK	255u
#define V4_NETS_MAX	(1u << 22)	/* IPv4 networks put in our own table */

struct mmdbsrc {
	MMDB_s db;
	int open;
	int v4only;			/* metadata ip_version 4 */
	unsigned nfields;
	size_t json_max, csv_max;	/* longest output for this spec */
	const char **path[ENRICH_MAX_FIELDS];	/* NULL-terminated parts */
	char *pathbuf[ENRICH_MAX_FIELDS];
	char member[ENRICH_MAX_FIELDS][ENRICH_NAME_MAX + 4];	/* ,"name": */
	size_t member_len[ENRICH_MAX_FIELDS];
	/* IPv4 networks -> their rendered fields; NULL: IPv4 through
	 * libmaxminddb as well. */
	struct lpm *lpm4;
	struct enr_texts tx;
	uint64_t bytes4;		/* memory of the two */
};

static void build_v4(struct mmdbsrc *m);

/* ---- load-time check of the tree and the data ------------------------- */

struct frame {
	uint32_t node;
	uint8_t side;		/* next record to look at: 0 left, 1 right, 2 done */
	uint8_t height;		/* tallest child subtree so far */
	MMDB_search_node_s n;
};

static int check_data(struct mmdbsrc *m, uint8_t *seen, MMDB_entry_s *e,
		      const char *file, char *err, size_t errlen)
{
	MMDB_entry_data_list_s *list = NULL;
	uint32_t off = e->offset;
	int rc;

	if (off >= m->db.data_section_size) {
		enr_errf(err, errlen, "%s: a search tree record points past the data section", file);
		return -1;
	}
	if (seen[off >> 3] & (1u << (off & 7)))
		return 0;
	seen[off >> 3] |= (uint8_t)(1u << (off & 7));
	rc = MMDB_get_entry_data_list(e, &list);
	MMDB_free_entry_data_list(list);
	if (rc != MMDB_SUCCESS) {
		enr_errf(err, errlen, "%s: data record at offset %u: %s", file, off, MMDB_strerror(rc));
		return -1;
	}
	return 0;
}

/* Depth-first over the search tree from the root. Each node is read once
 * (MaxMind databases alias the IPv4 subtree under ::ffff:0:0/96 and
 * 2002::/16, so a node may be reached by more than one path); its height is
 * kept so that a second path is still checked against the address bits: a
 * lookup stops after 32 or 128 bits, and a node still below that point
 * makes libmaxminddb fail the lookup. A node met again while on the stack
 * is a loop. Each data record is decoded once (a bitmap over the data
 * section's offsets). */
static int check_tree(struct mmdbsrc *m, const char *file, char *err, size_t errlen)
{
	uint32_t nc = m->db.metadata.node_count;
	unsigned bits = m->db.metadata.ip_version == 6 ? 128 : 32;
	struct frame *st = NULL;
	uint8_t *h = NULL, *seen = NULL;
	unsigned sp = 0;
	int rc = -1, mrc;

	if (nc == 0) {
		enr_errf(err, errlen, "%s: the search tree has no node", file);
		return -1;
	}
	h = calloc(nc, 1);
	seen = calloc((size_t)m->db.data_section_size / 8 + 1, 1);
	st = calloc(bits + 1, sizeof(*st));
	if (!h || !seen || !st) {
		enr_errf(err, errlen, "%s: out of memory checking the database", file);
		goto out;
	}
	st[0].node = 0;
	h[0] = ON_STACK;
	mrc = MMDB_read_node(&m->db, 0, &st[0].n);
	if (mrc != MMDB_SUCCESS) {
		enr_errf(err, errlen, "%s: search tree node 0: %s", file, MMDB_strerror(mrc));
		goto out;
	}
	sp = 1;
	while (sp) {
		struct frame *f = &st[sp - 1];
		uint64_t rec;
		uint8_t type;
		MMDB_entry_s *ent;

		if (f->side == 2) {
			uint8_t height = (uint8_t)(f->height + 1);

			h[f->node] = height;
			if (--sp)
				if (st[sp - 1].height < height)
					st[sp - 1].height = height;
			continue;
		}
		rec = f->side ? f->n.right_record : f->n.left_record;
		type = f->side ? f->n.right_record_type : f->n.left_record_type;
		ent = f->side ? &f->n.right_record_entry : &f->n.left_record_entry;
		f->side++;
		if (type == MMDB_RECORD_TYPE_EMPTY)
			continue;
		if (type == MMDB_RECORD_TYPE_DATA) {
			if (check_data(m, seen, ent, file, err, errlen))
				goto out;
			continue;
		}
		if (type != MMDB_RECORD_TYPE_SEARCH_NODE || rec >= nc) {
			enr_errf(err, errlen, "%s: search tree node %u: a record of unknown kind",
				 file, f->node);
			goto out;
		}
		/* The child sits at depth sp and would read bit sp. */
		if (h[rec] == ON_STACK) {
			enr_errf(err, errlen, "%s: search tree node %u: a loop back to node %u",
				 file, f->node, (uint32_t)rec);
			goto out;
		}
		if (h[rec]) {
			if (f->height < h[rec])
				f->height = h[rec];
			if (sp + h[rec] > bits) {
				enr_errf(err, errlen, "%s: search tree deeper than %u bits under node %u",
					 file, bits, (uint32_t)rec);
				goto out;
			}
			continue;
		}
		if (sp >= bits) {
			enr_errf(err, errlen, "%s: search tree deeper than %u bits at node %u",
				 file, bits, (uint32_t)rec);
			goto out;
		}
		memset(&st[sp], 0, sizeof(st[sp]));
		st[sp].node = (uint32_t)rec;
		h[rec] = ON_STACK;
		mrc = MMDB_read_node(&m->db, (uint32_t)rec, &st[sp].n);
		if (mrc != MMDB_SUCCESS) {
			enr_errf(err, errlen, "%s: search tree node %u: %s", file, (uint32_t)rec,
				 MMDB_strerror(mrc));
			goto out;
		}
		sp++;
	}
	rc = 0;
out:
	free(st);
	free(seen);
	free(h);
	return rc;
}

static int split_paths(struct mmdbsrc *m, const struct enrich_spec *s)
{
	for (unsigned i = 0; i < s->nfields; i++) {
		char *p = strdup(s->f[i].src);
		size_t n = 1;

		if (!p)
			return -1;
		m->pathbuf[i] = p;
		for (char *q = p; *q; q++)
			n += *q == '.';
		if (n > PATH_MAX_PARTS)
			return -1;
		m->path[i] = calloc(n + 1, sizeof(char *));
		if (!m->path[i])
			return -1;
		n = 0;
		m->path[i][n++] = p;
		for (char *q = p; *q; q++)
			if (*q == '.') {
				*q = '\0';
				m->path[i][n++] = q + 1;
			}
	}
	return 0;
}

struct mmdbsrc *mmdbsrc_load(const struct enrich_spec *s, char *err, size_t errlen)
{
	struct mmdbsrc *m;
	int fd, rc;

	/* libmaxminddb's "error opening the file" does not say why. */
	fd = enr_open_file(s->source, err, errlen);
	if (fd < 0)
		return NULL;
	close(fd);

	m = calloc(1, sizeof(*m));
	if (!m) {
		enr_errf(err, errlen, "%s: out of memory", s->source);
		return NULL;
	}
	rc = MMDB_open(s->source, MMDB_MODE_MMAP, &m->db);
	if (rc != MMDB_SUCCESS) {
		if (rc == MMDB_IO_ERROR || rc == MMDB_FILE_OPEN_ERROR)
			enr_errf(err, errlen, "%s: %s (%s)", s->source, MMDB_strerror(rc),
				 strerror(errno));
		else
			enr_errf(err, errlen, "%s: %s", s->source, MMDB_strerror(rc));
		free(m);
		return NULL;
	}
	m->open = 1;
	m->v4only = m->db.metadata.ip_version == 4;
	m->nfields = s->nfields;
	if (check_tree(m, s->source, err, errlen))
		goto fail;
	if (split_paths(m, s)) {
		enr_errf(err, errlen, "%s: out of memory", s->source);
		goto fail;
	}
	for (unsigned i = 0; i < s->nfields; i++) {
		size_t n = strlen(s->f[i].out);

		m->member[i][0] = ',';
		m->member[i][1] = '"';
		memcpy(m->member[i] + 2, s->f[i].out, n);
		m->member[i][n + 2] = '"';
		m->member[i][n + 3] = ':';
		m->member_len[i] = n + 4;
		m->json_max += n + 4 + ENRICH_VALUE_MAX;
		m->csv_max += 1 + ENRICH_VALUE_MAX;
	}
	build_v4(m);
	return m;
fail:
	mmdbsrc_free(m);
	return NULL;
}

void mmdbsrc_free(struct mmdbsrc *m)
{
	if (!m)
		return;
	for (unsigned i = 0; i < ENRICH_MAX_FIELDS; i++) {
		free(m->path[i]);
		free(m->pathbuf[i]);
	}
	if (m->open)
		MMDB_close(&m->db);
	lpm_free(m->lpm4);
	enr_texts_free(&m->tx);
	free(m);
}

void mmdbsrc_stats(const struct mmdbsrc *m, struct enrich_table_stats *st)
{
	st->entries = m->db.metadata.node_count;
	st->bytes = (m->db.file_size > 0 ? (uint64_t)m->db.file_size : 0) + m->bytes4;
}

/* ---- lookups ------------------------------------------------------------ */

/* The record covering a: IPv4 (mapped) as AF_INET, so that an IPv4 database
 * and the IPv4 subtree of an IPv6 database both answer it; an IPv6 address
 * is a miss in an IPv4 database. */
static int lookup(const struct mmdbsrc *m, const struct weir_addr *a, MMDB_entry_s *e)
{
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
	} u;
	MMDB_lookup_result_s r;
	int merr;

	memset(&u, 0, sizeof(u));
	if (weir_addr_is_v4(a)) {
		u.in4.sin_family = AF_INET;
		memcpy(&u.in4.sin_addr, a->a + 12, 4);
	} else {
		if (m->v4only)
			return 0;
		u.in6.sin6_family = AF_INET6;
		memcpy(&u.in6.sin6_addr, a->a, 16);
	}
	r = MMDB_lookup_sockaddr(&m->db, &u.sa, &merr);
	if (merr != MMDB_SUCCESS || !r.found_entry)
		return 0;
	*e = r.entry;
	return 1;
}

/* A scalar in its JSON form (json) or its CSV text. 1 when the value has
 * no form (NaN, infinity, an unknown type): left out. */
static int put_scalar(struct wr *w, const MMDB_entry_data_s *d, int json)
{
	char num[48];
	size_t n;

	switch (d->type) {
	case MMDB_DATA_TYPE_UTF8_STRING:
		if (json)
			wr_json_str(w, d->utf8_string, d->data_size);
		else
			enr_csv_cell(w, d->utf8_string, d->data_size);
		return 0;
	case MMDB_DATA_TYPE_DOUBLE:
		n = enr_fmt_double(num, d->double_value);
		break;
	case MMDB_DATA_TYPE_FLOAT:
		n = enr_fmt_float(num, d->float_value);
		break;
	case MMDB_DATA_TYPE_UINT16:
		n = weir_dec_u64(num, d->uint16);
		break;
	case MMDB_DATA_TYPE_UINT32:
		n = weir_dec_u64(num, d->uint32);
		break;
	case MMDB_DATA_TYPE_UINT64:
		n = weir_dec_u64(num, d->uint64);
		break;
	case MMDB_DATA_TYPE_INT32:
		n = weir_dec_i64(num, d->int32);
		break;
	case MMDB_DATA_TYPE_BOOLEAN:
		n = d->boolean ? 4 : 5;
		memcpy(num, d->boolean ? "true" : "false", n);
		break;
	case MMDB_DATA_TYPE_UINT128: {
		/* A string of 32 hex digits, as mmdblookup prints it: past
		 * 2^53 a JSON number loses digits in most readers. */
		uint8_t b[16];
#if MMDB_UINT128_IS_BYTE_ARRAY
		memcpy(b, d->uint128, 16);
#else
		mmdb_uint128_t v = d->uint128;

		for (int i = 15; i >= 0; i--, v >>= 8)
			b[i] = (uint8_t)v;
#endif
		if (json)
			wr_u8(w, '"');
		wr_bytes(w, "0x", 2);
		wr_hex(w, b, 16);
		if (json)
			wr_u8(w, '"');
		return 0;
	}
	case MMDB_DATA_TYPE_BYTES:
		if (json)
			wr_u8(w, '"');
		wr_hex(w, d->bytes, d->data_size);
		if (json)
			wr_u8(w, '"');
		return 0;
	default:
		return 1;
	}
	if (!n)
		return 1;
	wr_bytes(w, num, n);
	return 0;
}

/* The value at *lp (a flattened map or array from MMDB_get_entry_data_list:
 * the container, then its keys and values in order) as compact JSON;
 * *lp moves past it. -1 when the list ends early or nests too deep. */
static int put_list(struct wr *w, MMDB_entry_data_list_s **lp, int depth)
{
	MMDB_entry_data_list_s *l = *lp;
	const MMDB_entry_data_s *d;
	uint32_t i;

	if (!l || depth > LIST_DEPTH_MAX || w->err)
		return -1;
	d = &l->entry_data;
	l = l->next;
	switch (d->type) {
	case MMDB_DATA_TYPE_MAP:
		wr_u8(w, '{');
		for (i = 0; i < d->data_size; i++) {
			if (!l || l->entry_data.type != MMDB_DATA_TYPE_UTF8_STRING)
				return -1;
			if (i)
				wr_u8(w, ',');
			wr_json_str(w, l->entry_data.utf8_string, l->entry_data.data_size);
			wr_u8(w, ':');
			l = l->next;
			if (put_list(w, &l, depth + 1))
				return -1;
		}
		wr_u8(w, '}');
		break;
	case MMDB_DATA_TYPE_ARRAY:
		wr_u8(w, '[');
		for (i = 0; i < d->data_size; i++) {
			if (i)
				wr_u8(w, ',');
			if (put_list(w, &l, depth + 1))
				return -1;
		}
		wr_u8(w, ']');
		break;
	default:
		/* JSON has no NaN: inside a container it is null. */
		if (put_scalar(w, d, 1))
			wr_bytes(w, "null", 4);
		break;
	}
	*lp = l;
	return w->err ? -1 : 0;
}

/* A map or array value as compact JSON into w. Allocates: libmaxminddb
 * hands containers out only as a list it allocates. */
static int put_container(struct wr *w, const struct mmdbsrc *m, const MMDB_entry_data_s *d)
{
	MMDB_entry_s at = { .mmdb = &m->db, .offset = d->offset };
	MMDB_entry_data_list_s *list = NULL, *l;
	int rc;

	if (MMDB_get_entry_data_list(&at, &list) != MMDB_SUCCESS) {
		MMDB_free_entry_data_list(list);
		return -1;
	}
	l = list;
	rc = put_list(w, &l, 0);
	MMDB_free_entry_data_list(list);
	return rc;
}

/* The value of field i of the record at e, written at dst (room for
 * ENRICH_VALUE_MAX bytes). Its length, or 0 when the record does not carry
 * it, it has no form, or its form is longer than ENRICH_VALUE_MAX. */
static size_t put_value(const struct mmdbsrc *m, MMDB_entry_s *e, unsigned i, char *dst, int json)
{
	MMDB_entry_data_s d;
	struct wr w;

	if (MMDB_aget_value(e, &d, m->path[i]) != MMDB_SUCCESS || !d.has_data)
		return 0;
	wr_init(&w, dst, ENRICH_VALUE_MAX);
	if (d.type == MMDB_DATA_TYPE_MAP || d.type == MMDB_DATA_TYPE_ARRAY) {
		char tmp[ENRICH_VALUE_MAX];
		struct wr jw;

		if (json)
			return put_container(&w, m, &d) ? 0 : w.off;
		/* CSV: the JSON text, quoted as a cell. */
		wr_init(&jw, tmp, sizeof(tmp));
		if (put_container(&jw, m, &d))
			return 0;
		enr_csv_cell(&w, tmp, jw.off);
	} else if (put_scalar(&w, &d, json)) {
		return 0;
	}
	return w.err ? 0 : w.off;
}

/* One field as a JSON member or a CSV cell at dst (room for the field's
 * longest form): the length written. */
static size_t put_field(const struct mmdbsrc *m, MMDB_entry_s *e, unsigned i, char *dst, int json)
{
	size_t n;

	if (json) {
		n = put_value(m, e, i, dst + m->member_len[i], 1);
		if (!n)
			return 0;
		memcpy(dst, m->member[i], m->member_len[i]);
		return m->member_len[i] + n;
	}
	dst[0] = ',';
	return 1 + put_value(m, e, i, dst + 1, 0);
}

static size_t render(const struct mmdbsrc *m, MMDB_entry_s *e, char *out, size_t cap, int json)
{
	char tmp[ENRICH_NAME_MAX + 4 + ENRICH_VALUE_MAX];
	size_t off = 0, n, total = 0;
	unsigned i;

	if (cap >= (json ? m->json_max : m->csv_max)) {
		for (i = 0; i < m->nfields; i++)
			off += put_field(m, e, i, out + off, json);
		return off;
	}
	/* Too small a buffer for the longest form: measure first, so that
	 * nothing is written when the fields do not fit. */
	for (i = 0; i < m->nfields; i++)
		total += put_field(m, e, i, tmp, json);
	if (total > cap)
		return SIZE_MAX;
	for (i = 0; i < m->nfields; i++) {
		n = put_field(m, e, i, tmp, json);
		memcpy(out + off, tmp, n);
		off += n;
	}
	return off;
}

/* ---- the IPv4 table ------------------------------------------------------ */

struct v4build {
	struct mmdbsrc *m;
	struct lpm_builder *b;
	/* Data record offset + 1 -> text index (hash.h), while the table is
	 * built: each record is rendered once however many networks point to
	 * it. Bounded by V4_NETS_MAX, as the networks are. */
	struct oah map;
	char *scratch;		/* one record's JSON then CSV */
	size_t nets;
};

/* Network p/len (IPv4, host order) holds the data record at e. 0, or -1:
 * out of memory or too many networks. */
static int v4_add(struct v4build *v, uint32_t p, unsigned len, MMDB_entry_s *e)
{
	struct mmdbsrc *m = v->m;
	const struct oah_slot *slot;
	uint32_t idx;

	if (++v->nets > V4_NETS_MAX)
		return -1;
	slot = oah_find(&v->map, (uint64_t)e->offset + 1);
	if (slot) {
		idx = (uint32_t)slot->val;
	} else {
		size_t jl = render(m, e, v->scratch, m->json_max, 1);
		size_t cl = render(m, e, v->scratch + jl, m->csv_max, 0);

		idx = enr_texts_intern(&m->tx, v->scratch, jl, cl);
		if (idx == UINT32_MAX)
			return -1;
		if (oah_add(&v->map, (uint64_t)e->offset + 1, idx))
			return -1;
	}
	return lpm_builder_add4(v->b, p, len, idx) == WEIR_OK ? 0 : -1;
}

/* Walk the IPv4 tree from its start (the root of an IPv4 database; in an
 * IPv6 one, the node 96 zero bits down, where libmaxminddb starts an IPv4
 * lookup) and add every network that holds data. The tree was checked
 * (check_tree): no loops, nothing deeper than the address. A tree that
 * shares nodes can still make many paths: the walk stops past
 * V4_NETS_MAX * 4 nodes. 0, or -1 (then IPv4 stays with libmaxminddb). */
static int v4_walk(struct v4build *v)
{
	struct {
		MMDB_search_node_s n;
		uint32_t p;
		uint8_t depth, side;
	} st[33];
	MMDB_s *db = &v->m->db;
	uint32_t nc = db->metadata.node_count;
	uint64_t rec = 0, visits = 0;
	MMDB_entry_s ent = { .mmdb = db };
	unsigned sp = 0;

	/* The start: libmaxminddb's walk down 96 left records, which stops
	 * early at a record that is not a node (the whole IPv4 space is then
	 * that record, or nothing). */
	if (db->metadata.ip_version == 6) {
		for (unsigned i = 0; i < 96 && rec < nc; i++) {
			MMDB_search_node_s n;

			if (MMDB_read_node(db, (uint32_t)rec, &n) != MMDB_SUCCESS)
				return -1;
			rec = n.left_record;
			if (n.left_record_type == MMDB_RECORD_TYPE_DATA)
				ent = n.left_record_entry;
		}
	}
	if (rec == nc)
		return 0;
	if (rec > nc)
		return v4_add(v, 0, 0, &ent);
	if (MMDB_read_node(db, (uint32_t)rec, &st[0].n) != MMDB_SUCCESS)
		return -1;
	st[0].p = 0;
	st[0].depth = 0;
	st[0].side = 0;
	sp = 1;
	while (sp) {
		typeof(st[0]) *f = &st[sp - 1];
		unsigned side = f->side, len = f->depth + 1u;
		uint32_t p = f->p | (side ? 1u << (31 - f->depth) : 0);
		uint64_t r;
		uint8_t type;
		MMDB_entry_s *e;

		if (side == 2) {
			sp--;
			continue;
		}
		f->side++;
		r = side ? f->n.right_record : f->n.left_record;
		type = side ? f->n.right_record_type : f->n.left_record_type;
		e = side ? &f->n.right_record_entry : &f->n.left_record_entry;
		if (type == MMDB_RECORD_TYPE_EMPTY)
			continue;
		if (type == MMDB_RECORD_TYPE_DATA) {
			if (v4_add(v, p, len, e))
				return -1;
			continue;
		}
		if (type != MMDB_RECORD_TYPE_SEARCH_NODE || len >= 32 || ++visits > 4ull * V4_NETS_MAX)
			return -1;
		if (MMDB_read_node(db, (uint32_t)r, &st[sp].n) != MMDB_SUCCESS)
			return -1;
		st[sp].p = p;
		st[sp].depth = (uint8_t)len;
		st[sp].side = 0;
		sp++;
	}
	return 0;
}

/* Build m->lpm4 and m->tx. Failing (out of memory, a tree too large) is
 * not an error: IPv4 then goes through libmaxminddb. */
static void build_v4(struct mmdbsrc *m)
{
	struct v4build v = { .m = m };
	struct lpm_stats ls;

	oah_init(&v.map, V4_NETS_MAX);
	v.b = lpm_builder_new();
	v.scratch = malloc(m->json_max + m->csv_max);
	if (v.b && v.scratch && v4_walk(&v) == 0)
		m->lpm4 = lpm_build(v.b);
	if (m->lpm4) {
		enr_texts_freeze(&m->tx);
		lpm_stats(m->lpm4, &ls);
		m->bytes4 = ls.bytes + enr_texts_bytes(&m->tx);
	} else {
		enr_texts_free(&m->tx);
	}
	oah_free(&v.map);
	free(v.scratch);
	lpm_builder_free(v.b);
}

size_t mmdbsrc_json(const struct mmdbsrc *m, const struct weir_addr *a,
		    char *out, size_t cap, int *hit)
{
	MMDB_entry_s e;

	if (m->lpm4 && weir_addr_is_v4(a)) {
		uint32_t v = lpm_lookup(m->lpm4, a);

		*hit = v != LPM_NONE;
		return *hit ? enr_texts_text(&m->tx, 0, v, out, cap) : 0;
	}
	*hit = lookup(m, a, &e);
	if (!*hit)
		return 0;
	return render(m, &e, out, cap, 1);
}

size_t mmdbsrc_csv(const struct mmdbsrc *m, const struct weir_addr *a,
		   char *out, size_t cap, int *hit)
{
	MMDB_entry_s e;

	if (m->lpm4 && weir_addr_is_v4(a)) {
		uint32_t v = lpm_lookup(m->lpm4, a);

		*hit = v != LPM_NONE;
		if (*hit)
			return enr_texts_text(&m->tx, 1, v, out, cap);
	} else {
		*hit = lookup(m, a, &e);
		if (*hit)
			return render(m, &e, out, cap, 0);
	}
	if (cap < m->nfields)
		return SIZE_MAX;
	memset(out, ',', m->nfields);
	return m->nfields;
}

void mmdbsrc_find_many(const struct mmdbsrc *m, int csv, const struct weir_addr *const *a,
		       uint32_t *row, unsigned n)
{
	const struct weir_addr *v4[64];

	if (!m->lpm4) {
		for (unsigned i = 0; i < n; i++)
			row[i] = a[i] ? ENRICH_ROW_DIRECT : ENRICH_ROW_NONE;
		return;
	}
	/* IPv4 through the table (LPM_NONE is ENRICH_ROW_NONE, and no row is
	 * ENRICH_ROW_DIRECT: enr_texts_intern), IPv6 through libmaxminddb. */
	while (n) {
		unsigned k = n < 64 ? n : 64;

		for (unsigned i = 0; i < k; i++)
			v4[i] = a[i] && weir_addr_is_v4(a[i]) ? a[i] : NULL;
		lpm_lookup_many(m->lpm4, v4, row, k);
		for (unsigned i = 0; i < k; i++)
			if (a[i] && !v4[i])
				row[i] = ENRICH_ROW_DIRECT;
		enr_texts_load_many(&m->tx, csv, row, k);
		a += k;
		row += k;
		n -= k;
	}
}

const struct enr_texts *mmdbsrc_texts(const struct mmdbsrc *m)
{
	return m->lpm4 ? &m->tx : NULL;
}
