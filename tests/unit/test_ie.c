/* Unit tests of the IE registry (common/ie.c, common/ie_csv.c) and of the
 * built-in table generated from ie-defs/. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "ie.h"
#include "rd.h"

/* A private temp directory per test; Criterion runs each test in its own
 * process, so a static is enough. */
static char tmpdir[64];

static void mk_tmpdir(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/test_ie.XXXXXX", base && *base ? base : "/tmp");
	cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp");
}

static void rm_tmpdir(void)
{
	char cmd[128];

	if (!tmpdir[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

/* Write text to tmpdir/name; the path goes to path. */
static void write_file(const char *name, const char *text, char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	cr_assert_not_null(f, "fopen %s", path);
	cr_assert_eq(fputs(text, f) >= 0, 1);
	cr_assert_eq(fclose(f), 0);
}

static void expect(uint32_t pen, uint16_t id, const char *name, int type, int sem,
		   const char *units)
{
	const struct ie_def *d = ie_find(NULL, pen, id);

	cr_assert_not_null(d, "(%u, %u) should be known", pen, id);
	cr_expect_eq(d->pen, pen);
	cr_expect_eq(d->id, id);
	cr_expect_str_eq(d->name, name);
	cr_expect_eq(d->type, type, "%s: type %s", name, ie_type_name(d->type));
	cr_expect_eq(d->sem, sem, "%s: semantics %s", name, ie_sem_name(d->sem));
	cr_expect_str_eq(d->units, units);
}

Test(ie, iana_elements)
{
	expect(0, 1, "octetDeltaCount", IE_T_U64, IE_S_DELTA, "octets");
	expect(0, 2, "packetDeltaCount", IE_T_U64, IE_S_DELTA, "packets");
	expect(0, 4, "protocolIdentifier", IE_T_U8, IE_S_IDENTIFIER, "");
	expect(0, 6, "tcpControlBits", IE_T_U16, IE_S_FLAGS, "");
	expect(0, 7, "sourceTransportPort", IE_T_U16, IE_S_IDENTIFIER, "");
	expect(0, 8, "sourceIPv4Address", IE_T_IPV4, IE_S_DEFAULT, "");
	expect(0, 27, "sourceIPv6Address", IE_T_IPV6, IE_S_DEFAULT, "");
	expect(0, 56, "sourceMacAddress", IE_T_MAC, IE_S_DEFAULT, "");
	expect(0, 85, "octetTotalCount", IE_T_U64, IE_S_TOTAL, "octets");
	expect(0, 89, "forwardingStatus", IE_T_U32, IE_S_IDENTIFIER, "");
	expect(0, 150, "flowStartSeconds", IE_T_DT_SEC, IE_S_DEFAULT, "seconds");
	expect(0, 152, "flowStartMilliseconds", IE_T_DT_MS, IE_S_DEFAULT, "milliseconds");
	expect(0, 156, "flowStartNanoseconds", IE_T_DT_NS, IE_S_DEFAULT, "nanoseconds");
	expect(0, 207, "ipv4IHL", IE_T_U8, IE_S_DEFAULT, "4-octet words");
	expect(0, 276, "dataRecordsReliability", IE_T_BOOL, IE_S_DEFAULT, "");
	expect(0, 291, "basicList", IE_T_BASICLIST, IE_S_LIST, "");
	expect(0, 292, "subTemplateList", IE_T_STL, IE_S_LIST, "");
	expect(0, 293, "subTemplateMultiList", IE_T_STML, IE_S_LIST, "");
	expect(0, 311, "samplingProbability", IE_T_F64, IE_S_QUANTITY, "");
	expect(0, 434, "mibObjectValueInteger", IE_T_I32, IE_S_QUANTITY, "");
	expect(0, 439, "mibObjectValueCounter", IE_T_U64, IE_S_SNMP_COUNTER, "");
	expect(0, 440, "mibObjectValueGauge", IE_T_U32, IE_S_SNMP_GAUGE, "");
	expect(0, 458, "sourceTransportPortsLimit", IE_T_U16, IE_S_QUANTITY, "ports");
	/* Deprecated elements keep their names (RFC 7270). */
	expect(0, 34, "samplingInterval", IE_T_U32, IE_S_QUANTITY, "packets");
	expect(0, 502, "srhSegmentIPv6EndpointBehavior", IE_T_U16, IE_S_IDENTIFIER, "");
	/* unsigned256 (RFC 9740) is carried as octetArray. */
	expect(0, 515, "ipv6ExtensionHeadersFull", IE_T_OCTETS, IE_S_FLAGS, "");
	expect(0, 533, "pathDelaySumDeltaMicroseconds", IE_T_U64, IE_S_DELTA, "");
}

Test(ie, iana_gaps_and_bounds)
{
	/* 0 is reserved, 65-69 and 105-127 are NetFlow v9 placeholders without
	 * a name, 416 an unnamed deprecated duplicate, 534.. unassigned. */
	static const uint16_t none[] = { 0, 65, 69, 97, 105, 127, 416, 419, 534, 9999, 32767, 65535 };

	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		cr_expect_null(ie_find(NULL, 0, none[i]), "id %u", none[i]);
	cr_expect_null(ie_find(NULL, 12345, 1));
}

Test(ie, builtin_table_sorted_and_indexed)
{
	size_t iana = 0;

	cr_assert_gt(ie_builtin_count, 1500);
	for (size_t i = 0; i < ie_builtin_count; i++) {
		const struct ie_def *d = &ie_builtin_defs[i];

		if (i) {
			const struct ie_def *p = &ie_builtin_defs[i - 1];

			cr_assert(p->pen < d->pen || (p->pen == d->pen && p->id < d->id),
				  "table not sorted at %zu", i);
		}
		cr_assert(d->type < IE_T_COUNT && d->sem < IE_S_COUNT);
		cr_assert(d->name && d->name[0] && d->units);
		/* Every entry is found by key and by name, as itself or as an
		 * entry of a lower enterprise with the same name. */
		cr_assert_eq(ie_find(NULL, d->pen, d->id), d, "%s", d->name);
		const struct ie_def *n = ie_find_name(NULL, d->name);

		cr_assert_not_null(n, "%s by name", d->name);
		cr_assert_str_eq(n->name, d->name);
		cr_assert(n->pen <= d->pen);
		if (d->pen == IE_PEN_IANA)
			iana++;
	}
	/* The IANA registry names some 500 elements. */
	cr_expect_geq(iana, 495);
	cr_expect_leq(iana, 600);
}

Test(ie, reverse_elements)
{
	expect(IE_PEN_REVERSE, 1, "reverseOctetDeltaCount", IE_T_U64, IE_S_DELTA, "octets");
	expect(IE_PEN_REVERSE, 8, "reverseSourceIPv4Address", IE_T_IPV4, IE_S_DEFAULT, "");
	expect(IE_PEN_REVERSE, 152, "reverseFlowStartMilliseconds", IE_T_DT_MS, IE_S_DEFAULT,
	       "milliseconds");
	expect(IE_PEN_REVERSE, 236, "reverseVRFname", IE_T_STRING, IE_S_DEFAULT, "");
	expect(IE_PEN_REVERSE, 295, "reverseIPSecSPI", IE_T_U32, IE_S_IDENTIFIER, "");

	/* RFC 5103 section 6.1: not reversible. */
	static const uint16_t nrev[] = {
		40, 41, 42, 130, 131, 137, 145, 148, 149, 163, 164, 165, 166, 167, 168,
		173, 210, 211, 212, 213, 214, 215, 216, 217, 239,
	};
	for (size_t i = 0; i < sizeof(nrev) / sizeof(nrev[0]); i++) {
		cr_expect_not_null(ie_find(NULL, 0, nrev[i]));
		cr_expect_null(ie_find(NULL, IE_PEN_REVERSE, nrev[i]), "reverse of %u", nrev[i]);
	}
	cr_expect_null(ie_find_name(NULL, "reverseBiflowDirection"));
	cr_expect_null(ie_find_name(NULL, "reverseFlowKeyIndicator"));

	/* Exactly one reverse element per reversible IANA element. */
	size_t fwd = 0, rev = 0;

	for (size_t i = 0; i < ie_builtin_count; i++) {
		const struct ie_def *d = &ie_builtin_defs[i];

		if (d->pen == IE_PEN_IANA)
			fwd++;
		if (d->pen != IE_PEN_REVERSE)
			continue;
		rev++;
		const struct ie_def *f = ie_find(NULL, 0, d->id);

		cr_assert_not_null(f, "reverse %s has no forward element", d->name);
		cr_assert_eq(d->type, f->type);
		cr_assert_eq(strncmp(d->name, "reverse", 7), 0);
	}
	cr_expect_eq(rev, fwd - sizeof(nrev) / sizeof(nrev[0]));
}

Test(ie, vendor_elements)
{
	expect(5951, 128, "roundTripTime", IE_T_U32, IE_S_DEFAULT, "");
	expect(5951, 130, "httpRequestUrl", IE_T_STRING, IE_S_DEFAULT, "");
	expect(3054, 110, "l7ApplicationId", IE_T_U32, IE_S_DEFAULT, "");
	expect(3054, 126, "sourceIpLatitude", IE_T_F32, IE_S_DEFAULT, "");
	expect(3054, 193, "threatIPv4", IE_T_IPV4, IE_S_DEFAULT, "");
	expect(6871, 14, "initialTCPFlags", IE_T_U8, IE_S_FLAGS, "");
	expect(6871, 16398, "reverseInitialTCPFlags", IE_T_U8, IE_S_FLAGS, "");
	expect(6876, 883, "tenantSourceIPv6", IE_T_IPV6, IE_S_DEFAULT, "");
	expect(10704, 8, "bindIPv4Address", IE_T_IPV4, IE_S_DEFAULT, "");
	expect(15397, 3, "incomingOctets", IE_T_U64, IE_S_DELTA, "octets");
	expect(637, 93, "natSubscriberString", IE_T_STRING, IE_S_DEFAULT, "");
	expect(41916, 4321, "vpnId", IE_T_U64, IE_S_IDENTIFIER, "");
	expect(9, 12235, "applicationHttpHost", IE_T_STRING, IE_S_DEFAULT, "");
	expect(35632, 118, "l7Proto", IE_T_U16, IE_S_DEFAULT, "");
	/* NetFlow v9 vendor range, no enterprise bit. */
	expect(IE_PEN_V9, 33002, "fwExtEvent", IE_T_U16, IE_S_IDENTIFIER, "");
	expect(IE_PEN_V9, 40001, "xlateSourceIPv4Address", IE_T_IPV4, IE_S_DEFAULT, "");
	expect(IE_PEN_V9, 40005, "fwEvent", IE_T_U8, IE_S_IDENTIFIER, "");
	expect(IE_PEN_V9, 56701, "paloAltoAppId", IE_T_STRING, IE_S_DEFAULT, "");
	expect(IE_PEN_V9, 57590, "l7Proto", IE_T_U16, IE_S_DEFAULT, "");
	/* v9 ids are not IPFIX ids: 40005 is not an IANA element. */
	cr_expect_null(ie_find(NULL, 0, 40005 & 0x7fff));
}

/* ie-defs/juniper-2636.csv: the JRI common properties ID and the LRF fields. */
Test(ie, juniper_elements)
{
	static const struct {
		uint16_t id;
		const char *name;
		int type;
	} j[] = {
		{ 103, "uplinkOctets", IE_T_U32 },
		{ 112, "recordReason", IE_T_U8 },
		{ 137, "juniperCommonPropertiesId", IE_T_U64 },
		{ 155, "dpiHttpResponseCode", IE_T_U16 },
		{ 163, "dpiHttpUri", IE_T_STRING },
		{ 181, "dpiHttpTimeToFirstByte", IE_T_DT_MS },
		{ 502, "gatewayIPv4Address", IE_T_IPV4 },
		{ 876, "dnsResponseTime", IE_T_DT_MS },
	};

	expect(2636, 103, "uplinkOctets", IE_T_U32, IE_S_DEFAULT, "octets");
	expect(2636, 137, "juniperCommonPropertiesId", IE_T_U64, IE_S_IDENTIFIER, "");
	expect(2636, 520, "serviceSetName", IE_T_STRING, IE_S_DEFAULT, "");
	for (size_t i = 0; i < sizeof(j) / sizeof(j[0]); i++) {
		const struct ie_def *d = ie_find_name(NULL, j[i].name);

		cr_assert_not_null(d, "%s by name", j[i].name);
		cr_expect_eq(d->pen, 2636, "%s", j[i].name);
		cr_expect_eq(d->id, j[i].id, "%s", j[i].name);
		cr_expect_eq(d->type, j[i].type, "%s: type %s", j[i].name, ie_type_name(d->type));
		cr_expect_eq(ie_find(NULL, 2636, j[i].id), d);
	}
	/* Ids the LRF table skips or that could not be read stay unknown. */
	cr_expect_null(ie_find(NULL, 2636, 153));
	cr_expect_null(ie_find(NULL, 2636, 162));
	cr_expect_null(ie_find(NULL, 2636, 1));
	/* Juniper's 137 does not shadow IANA's commonPropertiesId by name, and
	 * the Juniper HTTP fields do not take over names of higher enterprises. */
	const struct ie_def *d = ie_find_name(NULL, "commonPropertiesId");

	cr_assert_not_null(d);
	cr_expect_eq(d->pen, 0);
	cr_expect_eq(d->id, 137);
	d = ie_find_name(NULL, "httpReferer");
	cr_assert_not_null(d);
	cr_expect_eq(d->pen, 3054);
}

Test(ie, name_lookup)
{
	const struct ie_def *d;

	d = ie_find_name(NULL, "octetDeltaCount");
	cr_assert_not_null(d);
	cr_expect_eq(d->pen, 0);
	cr_expect_eq(d->id, 1);
	d = ie_find_name(NULL, "reverseOctetDeltaCount");
	cr_assert_not_null(d);
	/* Ixia also has a "reverseOctetDeltaCount" (3054/176); the
	 * lowest enterprise wins, and 3054 < 29305. */
	cr_expect_eq(d->pen, 3054);
	d = ie_find_name(NULL, "tenantProtocol");
	cr_assert_not_null(d);
	cr_expect_eq(d->pen, 6876);
	cr_expect_eq(d->id, 880);
	d = ie_find_name(NULL, "l7Proto");
	cr_assert_not_null(d);
	cr_expect_eq(d->pen, 35632);	/* before the v9 twin */
	cr_expect_null(ie_find_name(NULL, "noSuchElement"));
	cr_expect_null(ie_find_name(NULL, ""));
	cr_expect_null(ie_find_name(NULL, NULL));
	cr_expect_null(ie_find_name(NULL, "OctetDeltaCount"));
}

Test(ie, type_and_semantics_names)
{
	static const char *types[] = {
		"octetArray", "unsigned8", "unsigned16", "unsigned32", "unsigned64",
		"signed8", "signed16", "signed32", "signed64", "float32", "float64",
		"boolean", "macAddress", "string", "dateTimeSeconds",
		"dateTimeMilliseconds", "dateTimeMicroseconds", "dateTimeNanoseconds",
		"ipv4Address", "ipv6Address", "basicList", "subTemplateList",
		"subTemplateMultiList",
	};
	static const char *sems[] = {
		"default", "quantity", "totalCounter", "deltaCounter", "identifier",
		"flags", "list", "snmpCounter", "snmpGauge",
	};
	static const unsigned sizes[] = {
		0, 1, 2, 4, 8, 1, 2, 4, 8, 4, 8, 1, 6, 0, 4, 8, 8, 8, 4, 16, 0, 0, 0,
	};

	cr_assert_eq(sizeof(types) / sizeof(types[0]), IE_T_COUNT);
	cr_assert_eq(sizeof(sems) / sizeof(sems[0]), IE_S_COUNT);
	for (int i = 0; i < IE_T_COUNT; i++) {
		cr_expect_eq(ie_type_parse(types[i]), i, "%s", types[i]);
		cr_expect_str_eq(ie_type_name(i), types[i]);
		cr_expect_eq(ie_type_size(i), sizes[i], "%s", types[i]);
	}
	for (int i = 0; i < IE_S_COUNT; i++) {
		cr_expect_eq(ie_sem_parse(sems[i]), i, "%s", sems[i]);
		cr_expect_str_eq(ie_sem_name(i), sems[i]);
	}
	cr_expect_eq(ie_type_parse("uint32"), -1);
	cr_expect_eq(ie_type_parse("Unsigned32"), -1);
	cr_expect_eq(ie_type_parse(""), -1);
	cr_expect_eq(ie_type_parse(NULL), -1);
	cr_expect_eq(ie_sem_parse("counter"), -1);
	cr_expect_str_eq(ie_type_name(-1), "?");
	cr_expect_str_eq(ie_type_name(IE_T_COUNT), "?");
	cr_expect_str_eq(ie_sem_name(IE_S_COUNT), "?");
	cr_expect_eq(ie_type_size(IE_T_COUNT), 0);
}

Test(ie, load_good_file, .init = mk_tmpdir, .fini = rm_tmpdir)
{
	char path[256], err[512];
	struct ie_registry *reg = ie_registry_new();
	const struct ie_def *d;

	cr_assert_not_null(reg);
	write_file("good.csv",
		   "# site elements\n"
		   "\n"
		   "enterprise,id,name,type,semantics,units\n"
		   "4242,1,myCounter,unsigned32,totalCounter,packets\n"
		   "  # indented comment\n"
		   "4242,2,\"myLabel\",string,,\"words, quoted\"\n"
		   "0,1,myOctets,unsigned32,deltaCounter,octets\n"
		   "v9,40000,myUser,string,,\n"
		   "4242,32767,myLast,ipv6Address,identifier,",	/* no final newline */
		   path, sizeof(path));
	cr_assert_eq(ie_load_csv(reg, path, err, sizeof(err)), WEIR_OK, "%s", err);
	cr_assert_eq(unlink(path), 0);	/* names are the registry's own */

	d = ie_find(reg, 4242, 1);
	cr_assert_not_null(d);
	cr_expect_str_eq(d->name, "myCounter");
	cr_expect_eq(d->type, IE_T_U32);
	cr_expect_eq(d->sem, IE_S_TOTAL);
	cr_expect_str_eq(d->units, "packets");
	d = ie_find(reg, 4242, 2);
	cr_assert_not_null(d);
	cr_expect_str_eq(d->name, "myLabel");
	cr_expect_str_eq(d->units, "words, quoted");
	d = ie_find(reg, 4242, 32767);
	cr_assert_not_null(d);
	cr_expect_eq(d->type, IE_T_IPV6);

	/* The custom (0, 1) overrides the built-in one in this registry only. */
	d = ie_find(reg, 0, 1);
	cr_assert_not_null(d);
	cr_expect_str_eq(d->name, "myOctets");
	cr_expect_eq(d->type, IE_T_U32);
	cr_expect_str_eq(ie_find(NULL, 0, 1)->name, "octetDeltaCount");
	/* Built-ins not overridden are still there. */
	cr_expect_str_eq(ie_find(reg, 0, 2)->name, "packetDeltaCount");

	d = ie_find(reg, IE_PEN_V9, 40000);
	cr_assert_not_null(d);
	cr_expect_str_eq(d->name, "myUser");
	cr_expect_str_eq(ie_find(NULL, IE_PEN_V9, 40000)->name, "aaaUsername");

	d = ie_find_name(reg, "myLabel");
	cr_assert_not_null(d);
	cr_expect_eq(d->id, 2);
	d = ie_find_name(reg, "octetDeltaCount");
	cr_assert_not_null(d);
	cr_expect_eq(d->pen, 0);	/* still found by its built-in name */
	cr_expect_null(ie_find_name(reg, "nothing"));

	/* A file with only its header is valid and changes nothing. */
	write_file("empty.csv", "enterprise,id,name,type,semantics,units\n", path, sizeof(path));
	cr_assert_eq(ie_load_csv(reg, path, err, sizeof(err)), WEIR_OK, "%s", err);
	cr_expect_str_eq(ie_find(reg, 4242, 1)->name, "myCounter");
	ie_registry_free(reg);
	ie_registry_free(NULL);

	/* The same, into a registry that has no custom element yet. */
	reg = ie_registry_new();
	cr_assert_eq(ie_load_csv(reg, path, err, sizeof(err)), WEIR_OK, "%s", err);
	cr_expect_str_eq(ie_find(reg, 0, 1)->name, "octetDeltaCount");
	ie_registry_free(reg);
}

Test(ie, reload_keeps_old_pointers, .init = mk_tmpdir, .fini = rm_tmpdir)
{
	char a[256], b[256], err[512];
	struct ie_registry *reg = ie_registry_new();
	const struct ie_def *old, *d;

	write_file("a.csv", "enterprise,id,name,type,semantics,units\n"
		   "77,5,first,unsigned8,,\n77,6,keep,unsigned16,,\n", a, sizeof(a));
	write_file("b.csv", "enterprise,id,name,type,semantics,units\n"
		   "77,5,second,unsigned64,,\n", b, sizeof(b));
	cr_assert_eq(ie_load_csv(reg, a, err, sizeof(err)), WEIR_OK, "%s", err);
	old = ie_find(reg, 77, 5);
	cr_assert_not_null(old);
	cr_assert_eq(ie_load_csv(reg, b, err, sizeof(err)), WEIR_OK, "%s", err);
	d = ie_find(reg, 77, 5);
	cr_assert_not_null(d);
	cr_expect_str_eq(d->name, "second");
	cr_expect_str_eq(old->name, "first");	/* still valid memory */
	cr_expect_not_null(ie_find(reg, 77, 6));
	cr_expect_null(ie_find_name(reg, "first"));
	cr_expect_not_null(ie_find_name(reg, "second"));
	ie_registry_free(reg);
}

struct bad_case {
	const char *what;
	const char *text;
	unsigned line;		/* the line the error must name */
	const char *needle;	/* a word the message must hold */
};

static const struct bad_case bad_cases[] = {
	{ "bad header", "enterprise,id,name,type,units\n0,1,x,unsigned8,,\n", 1, "header" },
	{ "header misspelt", "# c\nenterprize,id,name,type,semantics,units\n", 2, "header" },
	{ "no header", "# only a comment\n\n", 2, "header" },
	{ "empty file", "", 0, "header" },
	{ "unknown type", "enterprise,id,name,type,semantics,units\n"
	  "1,1,a,unsigned8,,\n1,2,b,uint32,,\n", 3, "type" },
	{ "unknown semantics", "enterprise,id,name,type,semantics,units\n"
	  "1,1,a,unsigned8,counter,\n", 2, "semantics" },
	{ "id out of range", "enterprise,id,name,type,semantics,units\n"
	  "9,32768,a,unsigned8,,\n", 2, "id" },
	{ "v9 id out of range", "enterprise,id,name,type,semantics,units\n"
	  "v9,65536,a,unsigned8,,\n", 2, "id" },
	{ "negative id", "enterprise,id,name,type,semantics,units\n"
	  "9,-1,a,unsigned8,,\n", 2, "id" },
	{ "missing column", "enterprise,id,name,type,semantics,units\n"
	  "# fine so far\n1,1,a,unsigned8,\n", 3, "fields" },
	{ "extra column", "enterprise,id,name,type,semantics,units\n"
	  "1,1,a,unsigned8,,,x\n", 2, "fields" },
	{ "bad pen", "enterprise,id,name,type,semantics,units\n"
	  "cisco,1,a,unsigned8,,\n", 2, "enterprise" },
	{ "pen too large", "enterprise,id,name,type,semantics,units\n"
	  "4294967296,1,a,unsigned8,,\n", 2, "enterprise" },
	{ "pen is the v9 marker", "enterprise,id,name,type,semantics,units\n"
	  "4294967295,1,a,unsigned8,,\n", 2, "enterprise" },
	{ "empty name", "enterprise,id,name,type,semantics,units\n"
	  "1,1,,unsigned8,,\n", 2, "name" },
	{ "name with blank", "enterprise,id,name,type,semantics,units\n"
	  "1,1,\"a b\",unsigned8,,\n", 2, "name" },
	{ "duplicate", "enterprise,id,name,type,semantics,units\n"
	  "5,1,a,unsigned8,,\n5,2,b,unsigned8,,\n\n5,1,c,unsigned16,,\n", 5, "duplicate" },
	{ "duplicate name", "enterprise,id,name,type,semantics,units\n"
	  "5,1,a,unsigned8,,\n5,2,a,unsigned8,,\n", 3, "duplicate" },
	{ "unterminated quote", "enterprise,id,name,type,semantics,units\n"
	  "5,1,a,unsigned8,,\"units\n", 2, "quot" },
	{ "stray quote", "enterprise,id,name,type,semantics,units\n"
	  "5,1,a\"b,unsigned8,,\n", 2, "quot" },
};

/* One file per case, all in one test: Criterion re-executes the binary for
 * each test, so a parameter table holding pointers would not survive. */
Test(ie, bad_files, .init = mk_tmpdir, .fini = rm_tmpdir)
{
	char path[256], err[512], want[300], name[32];

	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct ie_registry *reg = ie_registry_new();

		cr_assert_not_null(reg);
		snprintf(name, sizeof(name), "bad%zu.csv", i);
		write_file(name, c->text, path, sizeof(path));
		memset(err, 0, sizeof(err));
		cr_expect_eq(ie_load_csv(reg, path, err, sizeof(err)), WEIR_E_PARSE,
			     "%s: %s", c->what, err);
		snprintf(want, sizeof(want), "%s:%u: ", path, c->line);
		cr_expect_eq(strncmp(err, want, strlen(want)), 0,
			     "%s: got \"%s\", want \"%s...\"", c->what, err, want);
		cr_expect_not_null(strstr(err, c->needle), "%s: \"%s\" lacks \"%s\"",
				   c->what, err, c->needle);
		/* All or nothing: good lines before the bad one are not loaded. */
		cr_expect_null(ie_find(reg, 5, 2), "%s", c->what);
		cr_expect_null(ie_find(reg, 1, 1), "%s", c->what);
		cr_expect_str_eq(ie_find(reg, 0, 1)->name, "octetDeltaCount");
		ie_registry_free(reg);
	}
}

Test(ie, missing_file, .init = mk_tmpdir, .fini = rm_tmpdir)
{
	char path[256], err[512];
	struct ie_registry *reg = ie_registry_new();

	snprintf(path, sizeof(path), "%s/absent.csv", tmpdir);
	cr_assert_eq(ie_load_csv(reg, path, err, sizeof(err)), WEIR_E_IO);
	cr_expect_not_null(strstr(err, path), "%s", err);
	cr_expect_eq(ie_load_csv(reg, path, NULL, 0), WEIR_E_IO);
	cr_expect_eq(ie_load_csv(NULL, path, err, sizeof(err)), WEIR_E_INVALID);
	ie_registry_free(reg);
}

/* Every enterprise element the vendor captures put in their templates has a
 * definition, apart from the few no vendor documents. */
static const char *shared_dir(void)
{
	const char *s = getenv("WEIR_SHARED");

	return s && *s ? s : "../shared";
}

static int undocumented(uint32_t pen, uint16_t id)
{
	return pen == 5951 && ((id >= 329 && id <= 332) || id == 347);
}

static unsigned check_ipfix_templates(const char *file, unsigned *unknown)
{
	char path[512];
	static uint8_t buf[65536];
	unsigned checked = 0;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/testdata/vendor-payloads/%s", shared_dir(), file);
	f = fopen(path, "rb");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);

	struct rd msg, set;

	rd_init(&msg, buf, n);
	/* RFC 7011 section 3.1: version, length, export time, sequence, domain. */
	if (rd_u16(&msg) != 10)
		return 0;
	rd_skip(&msg, 14);
	while (!msg.err && rd_left(&msg) >= 4) {
		uint16_t sid = rd_u16(&msg), slen = rd_u16(&msg);

		if (slen < 4 || !rd_sub(&msg, slen - 4u, &set))
			break;
		if (sid != 2 && sid != 3)
			continue;
		/* Sections 3.4.1 and 3.4.2: template records. */
		while (!set.err && rd_left(&set) >= 4) {
			uint16_t tid = rd_u16(&set), cnt = rd_u16(&set);

			if (tid < 256)
				break;		/* padding */
			if (sid == 3)
				rd_skip(&set, 2);
			for (unsigned i = 0; i < cnt && !set.err; i++) {
				uint16_t id = rd_u16(&set);
				uint32_t pen = 0;

				rd_skip(&set, 2);
				if (id & 0x8000)
					pen = rd_u32(&set);
				id &= 0x7fff;
				if (set.err)
					break;
				checked++;
				if (!ie_find(NULL, pen, id) && !undocumented(pen, id)) {
					(*unknown)++;
					cr_log_error("%s: (%u, %u) unknown", file, pen, id);
				}
			}
		}
	}
	return checked;
}

Test(ie, vendor_payload_templates_known)
{
	static const char *files[] = {
		"ipfix_test_barracuda_extended_uniflow_tpl256.dat",
		"ipfix_test_ixia_tpldata256.dat",
		"ipfix_test_netscaler_tpl.dat",
		"ipfix_test_nokia_bras_tpl.dat",
		"ipfix_test_procera_tpl52935.dat",
		"ipfix_test_viptela_tpl257.dat",
		"ipfix_test_vmware_vds_tpl.dat",
		"ipfix_test_yaf_tpl45841.dat",
		"ipfix_test_yaf_tpls_option_tpl.dat",
		"ipfix_test_juniper_mx240_junos151r6s3_opttpl512.dat",
	};
	unsigned checked = 0, unknown = 0;
	char probe[512];

	snprintf(probe, sizeof(probe), "%s/testdata/vendor-payloads", shared_dir());
	if (access(probe, R_OK) != 0)
		cr_skip_test("vendor payloads not found at %s (set WEIR_SHARED)", probe);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		checked += check_ipfix_templates(files[i], &unknown);
	cr_assert_gt(checked, 150, "only %u template fields read", checked);
	cr_expect_eq(unknown, 0, "%u template fields unknown", unknown);
}
