/* ledger.c - see ledger.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "ledger.h"
#include "prog_version.h"
#include "txt.h"

int ledger_init(struct ledger *l, uint32_t nexp)
{
	memset(l, 0, sizeof(*l));
	l->exp = calloc(nexp ? nexp : 1, sizeof(*l->exp));
	if (!l->exp)
		return WEIR_E_NOMEM;
	l->n = nexp;
	return WEIR_OK;
}

void ledger_free(struct ledger *l)
{
	free(l->exp);
	memset(l, 0, sizeof(*l));
}

void ledger_sent(struct ledger *l, const struct dg_info *d)
{
	struct ledger_exp *e;

	if (d->exporter >= l->n)
		return;
	e = &l->exp[d->exporter];
	e->packets++;
	e->template_packets += d->is_template;
	e->flow_records += d->records;
	e->options_records += d->options_records;
	e->flow_bytes += d->bytes;
	e->flow_packets += d->packets;
	e->frame_bytes += d->frame_bytes;
	e->scaled_bytes += d->scaled_bytes;
	e->scaled_packets += d->scaled_packets;
	e->payload_bytes += d->len;
	if (!e->have_seq) {
		e->have_seq = 1;
		e->first_sequence = d->sequence;
	}
	e->last_sequence = d->sequence;
	e->next_sequence = d->sequence + d->sequence_step;
	if (d->records && l->run.proto == GEN_SFLOW) {
		if (!e->have_sample_seq) {
			e->have_sample_seq = 1;
			e->first_sample_sequence = d->sample_seq_first;
		}
		e->last_sample_sequence = d->sample_seq_last;
	}
}

void ledger_failed(struct ledger *l, const struct dg_info *d, int err)
{
	if (d->exporter >= l->n)
		return;
	l->exp[d->exporter].send_errors++;
	if (!l->run.first_errno)
		l->run.first_errno = err;
}

void ledger_totals(const struct ledger *l, struct ledger_exp *t)
{
	memset(t, 0, sizeof(*t));
	for (uint32_t i = 0; i < l->n; i++) {
		const struct ledger_exp *e = &l->exp[i];

		t->packets += e->packets;
		t->template_packets += e->template_packets;
		t->flow_records += e->flow_records;
		t->options_records += e->options_records;
		t->flow_bytes += e->flow_bytes;
		t->flow_packets += e->flow_packets;
		t->frame_bytes += e->frame_bytes;
		t->scaled_bytes += e->scaled_bytes;
		t->scaled_packets += e->scaled_packets;
		t->payload_bytes += e->payload_bytes;
		t->send_errors += e->send_errors;
	}
}

/* A JSON string (wr_json_str, txt.h). Each input byte takes at most six
 * output bytes (\u00XX); the ledger's strings are short, a longer one
 * (an argument) gets a buffer of its own. */
static void json_str(FILE *fp, const char *s)
{
	uint8_t small[512], *buf = small;
	size_t n = strlen(s), cap = 2;
	struct wr w;

	if (n > (SIZE_MAX - 2) / 6)
		n = (SIZE_MAX - 2) / 6;
	cap += 6 * n;
	if (cap > sizeof(small) && !(buf = malloc(cap))) {
		fputs("\"\"", fp);	/* out of memory: an empty string, still JSON */
		return;
	}
	wr_init(&w, buf, cap);
	wr_json_str(&w, s, n);
	fwrite(buf, 1, w.off, fp);
	if (buf != small)
		free(buf);
}

static void json_addr(FILE *fp, const struct weir_addr *a)
{
	char buf[64];

	json_str(fp, weir_addr_str(a, buf, sizeof(buf)));
}

static void print_counts(FILE *fp, const struct ledger_exp *e, enum gen_proto proto,
			 const char *ind)
{
	fprintf(fp, "%s\"packets\": %llu,\n", ind, (unsigned long long)e->packets);
	fprintf(fp, "%s\"data_packets\": %llu,\n", ind,
		(unsigned long long)(e->packets - e->template_packets));
	fprintf(fp, "%s\"template_sends\": %llu,\n", ind, (unsigned long long)e->template_packets);
	fprintf(fp, "%s\"flow_records\": %llu,\n", ind, (unsigned long long)e->flow_records);
	fprintf(fp, "%s\"options_records\": %llu,\n", ind, (unsigned long long)e->options_records);
	fprintf(fp, "%s\"bytes\": %llu,\n", ind, (unsigned long long)e->flow_bytes);
	fprintf(fp, "%s\"flow_packets\": %llu,\n", ind, (unsigned long long)e->flow_packets);
	if (proto == GEN_SFLOW) {
		fprintf(fp, "%s\"samples\": %llu,\n", ind, (unsigned long long)e->flow_records);
		fprintf(fp, "%s\"frame_bytes\": %llu,\n", ind, (unsigned long long)e->frame_bytes);
		fprintf(fp, "%s\"scaled_bytes\": %llu,\n", ind, (unsigned long long)e->scaled_bytes);
		fprintf(fp, "%s\"scaled_packets\": %llu,\n", ind,
			(unsigned long long)e->scaled_packets);
	}
	fprintf(fp, "%s\"payload_bytes\": %llu,\n", ind, (unsigned long long)e->payload_bytes);
	fprintf(fp, "%s\"send_errors\": %llu", ind, (unsigned long long)e->send_errors);
}

static const char *sequence_unit(enum gen_proto p)
{
	switch (p) {
	case GEN_IPFIX:
		return "data records before the message (RFC 7011 section 3.1)";
	case GEN_V9:
		return "export packets before this one (RFC 3954 section 5.1)";
	case GEN_V5:
		return "flows before the datagram";
	case GEN_SFLOW:
		return "datagrams before this one";
	}
	return "";
}

static void print_exporter(FILE *fp, const struct ledger *l, const struct ledger_exp *e,
			   uint32_t i)
{
	const char *ind = "      ";

	fprintf(fp, "    {\n%s\"index\": %u,\n%s\"source_address\": ", ind, i, ind);
	json_addr(fp, &e->addr);
	fprintf(fp, ",\n%s\"source_port\": %u,\n", ind, e->port);
	fprintf(fp, "%s\"observation_domain_id\": %u,\n", ind, e->domain);
	print_counts(fp, e, l->run.proto, ind);
	if (e->have_seq)
		fprintf(fp, ",\n%s\"first_sequence\": %u,\n%s\"last_sequence\": %u,\n"
			"%s\"next_sequence\": %u", ind, e->first_sequence, ind,
			e->last_sequence, ind, e->next_sequence);
	else
		fprintf(fp, ",\n%s\"first_sequence\": null,\n%s\"last_sequence\": null,\n"
			"%s\"next_sequence\": null", ind, ind, ind);
	if (l->run.proto == GEN_SFLOW) {
		if (e->have_sample_seq)
			fprintf(fp, ",\n%s\"first_sample_sequence\": %u,\n"
				"%s\"last_sample_sequence\": %u", ind, e->first_sample_sequence,
				ind, e->last_sample_sequence);
		else
			fprintf(fp, ",\n%s\"first_sample_sequence\": null,\n"
				"%s\"last_sample_sequence\": null", ind, ind);
	}
	fprintf(fp, "\n    }");
}

int ledger_print(const struct ledger *l, FILE *fp)
{
	const struct ledger_run *r = &l->run;
	struct ledger_exp t;

	fprintf(fp, "{\n  \"generator\": \"weir-generator\",\n  \"version\": ");
	json_str(fp, WEIR_VERSION);
	fprintf(fp, ",\n  \"command_line\": [");
	for (int i = 0; i < r->argc; i++) {
		fputs(i ? ", " : "", fp);
		json_str(fp, r->argv[i] ? r->argv[i] : "");
	}
	fprintf(fp, "],\n  \"protocol\": ");
	json_str(fp, gen_proto_name(r->proto));
	fprintf(fp, ",\n  \"collector\": { \"host\": ");
	json_str(fp, r->host ? r->host : "");
	fprintf(fp, ", \"address\": ");
	json_addr(fp, &r->dst);
	fprintf(fp, ", \"port\": %u },\n  \"output\": ", r->dport);
	if (r->pcap_out) {
		fprintf(fp, "\"pcap\",\n  \"pcap_file\": ");
		json_str(fp, r->pcap_out);
	} else {
		fprintf(fp, "\"udp\",\n  \"pcap_file\": null");
	}
	fprintf(fp, ",\n  \"seed\": %llu,\n  \"seeded\": %s,\n", (unsigned long long)r->seed,
		r->seeded ? "true" : "false");
	fprintf(fp, "  \"rate\": %llu,\n  \"flows_per_packet\": %u,\n  \"count\": %llu,\n",
		(unsigned long long)r->rate, r->flows_per_packet, (unsigned long long)r->count);
	fprintf(fp, "  \"sampling_rate\": %u,\n  \"mtu\": %u,\n  \"template_interval\": %llu,\n",
		r->sampling_rate, r->mtu, (unsigned long long)r->template_interval_s);
	fprintf(fp, "  \"distribution\": ");
	json_str(fp, r->distribution ? r->distribution : "uniform");
	fprintf(fp, ",\n  \"sequence_unit\": ");
	json_str(fp, sequence_unit(r->proto));
	fprintf(fp, ",\n  \"start_time_ns\": %llu,\n  \"model_start_ns\": %llu,\n",
		(unsigned long long)r->start_unix_ns, (unsigned long long)r->model_start_ns);
	fprintf(fp, "  \"elapsed_s\": %.6f,\n  \"stop_reason\": ", r->elapsed_s);
	json_str(fp, r->stop_reason ? r->stop_reason : "");
	fprintf(fp, ",\n  \"first_send_error\": ");
	if (r->first_errno)
		json_str(fp, strerror(r->first_errno));
	else
		fputs("null", fp);
	fprintf(fp, ",\n  \"exporters\": [\n");
	for (uint32_t i = 0; i < l->n; i++) {
		print_exporter(fp, l, &l->exp[i], i);
		fputs(i + 1 < l->n ? ",\n" : "\n", fp);
	}
	ledger_totals(l, &t);
	fprintf(fp, "  ],\n  \"totals\": {\n    \"exporters\": %u,\n", l->n);
	print_counts(fp, &t, r->proto, "    ");
	fprintf(fp, "\n  }\n}\n");
	return ferror(fp) ? -1 : 0;
}

int ledger_write(const struct ledger *l, const char *path, char *err, size_t errlen)
{
	size_t plen = strlen(path);
	char *tmp = malloc(plen + 16);
	FILE *fp = NULL;
	int fd, ret = WEIR_E_IO;
	mode_t mask;

	if (!tmp) {
		snprintf(err, errlen, "%s: out of memory", path);
		return WEIR_E_NOMEM;
	}
	/* The temporary file sits beside the target, so rename() is atomic. */
	snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	fp = fdopen(fd, "w");
	if (!fp) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		close(fd);
		goto unlink;
	}
	if (ledger_print(l, fp) || fflush(fp) || fsync(fileno(fp))) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		fclose(fp);
		goto unlink;
	}
	/* mkstemp makes the file 0600: give it the mode a plain create would. */
	mask = umask(0);
	umask(mask);
	(void)fchmod(fileno(fp), 0666 & ~mask);
	if (fclose(fp)) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		goto unlink;
	}
	if (rename(tmp, path)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto unlink;
	}
	ret = WEIR_OK;
	goto out;
unlink:
	unlink(tmp);
out:
	free(tmp);
	return ret;
}
