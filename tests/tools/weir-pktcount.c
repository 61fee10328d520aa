/* weir-pktcount - what weir's packet parser finds in capture files: per
 * file and in total, the IPv4 and IPv6 packets, their IP bytes (the IPv4
 * total length, the IPv6 payload length + 40: what the flow meter counts),
 * frames without IP and frames refused by reason (enum pkt_why). The
 * independent count to compare with is tshark's (tests/integration/t-pkt-tshark).
 *
 * Usage: weir-pktcount [-j] [-f] [-x DIR] FILE...
 *   -j  one JSON object per file, then one with the totals
 *   -f  also one line per frame (with -j: a JSON object): file index,
 *       frame number from 1, IP version (0: none), ip_len, protocol, why
 *   -x  also write each frame of a link type weir parses to DIR, one file
 *       each (the fuzz seeds of tests/fuzz/fuzz_pkt.c; see tests/fuzz/run)
 * Exit 0, or 1 when a file did not open or read to its end (the counts up
 * to the error are still printed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit/pktcount.h"

struct opt {
	int json, frames;
	const char *seeds;	/* -x DIR */
	unsigned file;
	int write_failed;
};

static void write_seed(struct opt *o, uint64_t n, const struct wpcap_frame *f)
{
	char path[4096];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%u-%llu", o->seeds, o->file, (unsigned long long)n);
	fp = fopen(path, "wb");
	if (!fp || fwrite(f->p, 1, f->caplen, fp) != f->caplen)
		o->write_failed = 1;
	if (fp && fclose(fp))
		o->write_failed = 1;
}

static void frame_line(void *arg, uint64_t n, const struct wpcap_frame *f,
		       const struct pkt_info *pi)
{
	struct opt *o = arg;
	int v = pi->layers & PKT_L_IPV4 ? 4 : pi->layers & PKT_L_IPV6 ? 6 : 0;

	if (o->seeds)
		write_seed(o, n, f);
	if (!o->frames)
		return;
	if (o->json)
		printf("{\"fileno\":%u,\"frame\":%llu,\"caplen\":%zu,\"len\":%zu,\"ip\":%d,"
		       "\"l3_off\":%u,\"ip_len\":%u,\"len_from_frame\":%u,\"proto\":%u,"
		       "\"why\":\"%s\"}\n", o->file, (unsigned long long)n, f->caplen, f->len, v,
		       pi->l3_off, v ? pi->ip_len : 0, v ? pi->len_from_frame : 0,
		       v ? pi->proto : 0, pkt_why_name(pi->why));
	else
		printf("  %u.%llu caplen %zu len %zu ip %d l3_off %u ip_len %u%s proto %u why %s\n",
		       o->file, (unsigned long long)n, f->caplen, f->len, v, pi->l3_off,
		       v ? pi->ip_len : 0, v && pi->len_from_frame ? " (from the frame)" : "",
		       v ? pi->proto : 0, pkt_why_name(pi->why));
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void print_counts(const struct opt *o, const char *name, const struct pktcount *c)
{
	if (o->json) {
		printf("{\"file\":");
		json_str(name);
		printf(",\"dlt\":%d,\"linktype\":\"%s\",\"parsed\":%s", c->dlt,
		       wpcap_dlt_name(c->dlt), c->start >= 0 ? "true" : "false");
	} else {
		printf("%s:%s%s%s", name, c->dlt >= 0 ? " " : "", c->dlt >= 0 ? wpcap_dlt_name(c->dlt) : "",
		       c->start >= 0 ? "" : " (link type not parsed)");
	}
	printf(o->json ? ",\"frames\":%llu,\"ipv4\":%llu,\"ipv6\":%llu,\"ip_bytes\":%llu,"
			 "\"not_ip\":%llu,\"refused\":%llu,\"why\":{"
		       : " frames %llu ipv4 %llu ipv6 %llu ip_bytes %llu not_ip %llu refused %llu",
	       (unsigned long long)c->frames, (unsigned long long)c->ipv4,
	       (unsigned long long)c->ipv6, (unsigned long long)c->ip_bytes,
	       (unsigned long long)c->not_ip, (unsigned long long)c->refused);
	for (int w = 1, first = 1; w < PKT_WHY_MAX; w++) {
		if (!c->why[w])
			continue;
		printf(o->json ? "%s\"%s\":%llu" : "%s%s %llu", o->json ? (first ? "" : ",") : " ",
		       pkt_why_name(w), (unsigned long long)c->why[w]);
		first = 0;
	}
	if (o->json) {
		putchar('}');
		if (c->open_failed || c->read_failed) {
			printf(",\"error\":");
			json_str(c->err);
		}
		printf("}\n");
	} else {
		if (c->open_failed || c->read_failed)
			printf(" error: %s", c->err);
		putchar('\n');
	}
}

int main(int argc, char **argv)
{
	struct opt o = { 0 };
	struct pktcount c, t;
	int i, st = 0;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "-j"))
			o.json = 1;
		else if (!strcmp(argv[i], "-f"))
			o.frames = 1;
		else if (!strcmp(argv[i], "-x") && i + 1 < argc)
			o.seeds = argv[++i];
		else
			break;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: weir-pktcount [-j] [-f] [-x DIR] FILE...\n");
		return 2;
	}
	memset(&t, 0, sizeof(t));
	t.dlt = -1;
	t.start = 0;
	for (; i < argc; i++, o.file++) {
		if (pktcount_file(&c, argv[i], 0, o.frames || o.seeds ? frame_line : NULL, &o))
			st = 1;
		print_counts(&o, argv[i], &c);
		if (c.start < 0)
			continue;
		t.frames += c.frames;
		t.ipv4 += c.ipv4;
		t.ipv6 += c.ipv6;
		t.ip_bytes += c.ip_bytes;
		t.not_ip += c.not_ip;
		t.refused += c.refused;
		for (int w = 0; w < PKT_WHY_MAX; w++)
			t.why[w] += c.why[w];
	}
	print_counts(&o, "total (parsed link types)", &t);
	if (o.write_failed) {
		fprintf(stderr, "weir-pktcount: writing seeds to %s failed\n", o.seeds);
		st = 1;
	}
	return st;
}
