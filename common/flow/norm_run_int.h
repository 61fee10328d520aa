/* norm_run_int.h - the body of a plan's run, included twice by norm.c:
 * with FIXED 1 as plan_run_fixed() (a fixed-layout record: a source is at
 * base + its offset) and with FIXED 0 as plan_run_idx() (a source is the
 * value of its field), so neither copy tests the addressing per step.
 * Internal to norm.c.
 *
 * Runs plan pl over one record; returns the FLOW_HAS_* bits of steps that
 * gave nothing.
 *
 * Over 100 lines: threaded dispatch (computed goto) needs every step's
 * label in one function body, one short block per step kind, and no
 * second dispatch. Measured (bench/decode 3, medians of three alternating
 * runs): taking the ten time steps out into an inlined function with a
 * switch cost IPFIX 36.8 -> 31.9 M records/s and v9 31.3 -> 28.8 (-13%,
 * -8%); softflowd's IPFIX uptimes (K_UPTIME) would pay the same. The
 * pair steps (two of a kind on one dispatch) add a block per kind they
 * fuse, and gave IPFIX +16% and v9 +17% over b4737fb (bench/decode, four
 * code layouts, docs/benchmarks.md).
 */
static uint64_t PLAN_RUN(const struct norm_plan *pl, const uint8_t *base,
			 const struct weir_value *v, const struct norm_run *r, struct flow *f)
{
#define L(sw, dw) &&u_##sw##_##dw
#define L2(sw, dw) &&uu_##sw##_##dw
	static const void *const go[K_COUNT] = {
		[K_END] = &&done,
		[K_U + 0]  = L(0, 0), [K_U + 1]  = L(0, 1), [K_U + 2]  = L(0, 2), [K_U + 3]  = L(0, 3),
		[K_U + 4]  = L(1, 0), [K_U + 5]  = L(1, 1), [K_U + 6]  = L(1, 2), [K_U + 7]  = L(1, 3),
		[K_U + 8]  = L(2, 0), [K_U + 9]  = L(2, 1), [K_U + 10] = L(2, 2), [K_U + 11] = L(2, 3),
		[K_U + 12] = L(3, 0), [K_U + 13] = L(3, 1), [K_U + 14] = L(3, 2), [K_U + 15] = L(3, 3),
		[K_UN + 0] = &&un, [K_UN + 1] = &&un, [K_UN + 2] = &&un, [K_UN + 3] = &&un,
		[K_ADDR4] = &&addr4, [K_ADDR16] = &&addr16, [K_ADDR_PICK] = &&addr_pick,
		[K_MAC] = &&mac, [K_CONST16] = &&const16, [K_FAM_PICK] = &&fam_pick,
		[K_IPVER] = &&ipver, [K_VLAN] = &&vlan, [K_LABEL] = &&label, [K_HI8] = &&hi8,
		[K_LO8] = &&lo8, [K_NTP_NS] = &&ntp_ns, [K_NTP_US] = &&ntp_us, [K_MS] = &&ms,
		[K_SEC] = &&sec, [K_DELTA_US] = &&delta_us, [K_UPTIME] = &&uptime,
		[K_MS8] = &&ms8, [K_SEC4] = &&sec4, [K_UP5] = &&up5, [K_UP9] = &&up9,
		[K_U2 + 0]  = L2(0, 0), [K_U2 + 1]  = L2(0, 1), [K_U2 + 2]  = L2(0, 2), [K_U2 + 3]  = L2(0, 3),
		[K_U2 + 4]  = L2(1, 0), [K_U2 + 5]  = L2(1, 1), [K_U2 + 6]  = L2(1, 2), [K_U2 + 7]  = L2(1, 3),
		[K_U2 + 8]  = L2(2, 0), [K_U2 + 9]  = L2(2, 1), [K_U2 + 10] = L2(2, 2), [K_U2 + 11] = L2(2, 3),
		[K_U2 + 12] = L2(3, 0), [K_U2 + 13] = L2(3, 1), [K_U2 + 14] = L2(3, 2), [K_U2 + 15] = L2(3, 3),
		[K_ADDR4_2] = &&addr4_2, [K_MS8_2] = &&ms8_2, [K_SEC4_2] = &&sec4_2,
		[K_UP5_2] = &&up5_2, [K_UP9_2] = &&up9_2,
	};
#undef L
#undef L2
	uint8_t *fb = (uint8_t *)f;
	const struct norm_op *op = FIXED ? pl->op_off : pl->op_idx, *end = op + pl->nops;
	const uint8_t *p, *p6;
	uint8_t *d;
	uint64_t x, drop = 0;

	if (op == end)
		return 0;
#define SRC(o) (FIXED ? base + (o)->src : v[(o)->src].p)
	/* A step's norm_aux: the arrays have one stride, so a constant away. */
#define AUX(o) ((const struct norm_aux *)(const void *)((const char *)(o) +		\
		 (FIXED ? offsetof(struct norm_plan, aux) - offsetof(struct norm_plan, op_off) \
			: offsetof(struct norm_plan, aux) - offsetof(struct norm_plan, op_idx))))
#define NEXT do {							\
		if (++op >= end)					\
			return drop;					\
		p = SRC(op);						\
		d = fb + op->dst;					\
		goto *go[op->kind];					\
	} while (0)
	p = SRC(op);
	d = fb + op->dst;
	goto *go[op->kind];
#define CV(sw, dw, LD, ST) u_##sw##_##dw: ST(d, LD(p)); NEXT;
	CV(0, 0, ld8, st8)  CV(0, 1, ld8, st16)  CV(0, 2, ld8, st32)  CV(0, 3, ld8, st64)
	CV(1, 0, ld16, st8) CV(1, 1, ld16, st16) CV(1, 2, ld16, st32) CV(1, 3, ld16, st64)
	CV(2, 0, ld32, st8) CV(2, 1, ld32, st16) CV(2, 2, ld32, st32) CV(2, 3, ld32, st64)
	CV(3, 0, ld64, st8) CV(3, 1, ld64, st16) CV(3, 2, ld64, st32) CV(3, 3, ld64, st64)
#undef CV
	/* Pairs: the first step, the second (op + 1), one dispatch. */
#define SECOND do { op++; p = SRC(op); d = fb + op->dst; } while (0)
#define CV2(sw, dw, LD, ST) uu_##sw##_##dw: ST(d, LD(p)); SECOND; ST(d, LD(p)); NEXT;
	CV2(0, 0, ld8, st8)  CV2(0, 1, ld8, st16)  CV2(0, 2, ld8, st32)  CV2(0, 3, ld8, st64)
	CV2(1, 0, ld16, st8) CV2(1, 1, ld16, st16) CV2(1, 2, ld16, st32) CV2(1, 3, ld16, st64)
	CV2(2, 0, ld32, st8) CV2(2, 1, ld32, st16) CV2(2, 2, ld32, st32) CV2(2, 3, ld32, st64)
	CV2(3, 0, ld64, st8) CV2(3, 1, ld64, st16) CV2(3, 2, ld64, st32) CV2(3, 3, ld64, st64)
#undef CV2
addr4_2:
	weir_addr_v4((struct weir_addr *)(void *)d, p);
	SECOND;
	weir_addr_v4((struct weir_addr *)(void *)d, p);
	NEXT;
ms8_2:
	st64(d, ld64(p) * 1000000ull);
	SECOND;
	st64(d, ld64(p) * 1000000ull);
	NEXT;
sec4_2:
	st64(d, ld32(p) * NS_PER_S);
	SECOND;
	st64(d, ld32(p) * NS_PER_S);
	NEXT;
up5_2:
	st64(d, up_to_ns(exp_ns_of(r->m), r->m->sys_uptime_ms, (uint32_t)ld32(p), 0));
	SECOND;
	st64(d, up_to_ns(exp_ns_of(r->m), r->m->sys_uptime_ms, (uint32_t)ld32(p), 0));
	NEXT;
up9_2:
	st64(d, up_to_ns(exp_ns_of(r->m), r->m->sys_uptime_ms, (uint32_t)ld32(p), NF9_SLACK_MS));
	SECOND;
	st64(d, up_to_ns(exp_ns_of(r->m), r->m->sys_uptime_ms, (uint32_t)ld32(p), NF9_SLACK_MS));
	NEXT;
#undef SECOND
un:
	stw(d, (unsigned)(op->kind - K_UN), be_uint(p, AUX(op)->len));
	NEXT;
addr4:
	weir_addr_v4((struct weir_addr *)(void *)d, p);
	NEXT;
addr16:
	memcpy(d, p, 16);
	NEXT;
addr_pick:
	op++;
	p6 = SRC(op);
	if (all_zero(p, 4) && !all_zero(p6, 16))
		memcpy(d, p6, 16);
	else
		weir_addr_v4((struct weir_addr *)(void *)d, p);
	NEXT;
fam_pick:
	op++;
	p6 = SRC(op);
	st16(d, all_zero(p, 4) && !all_zero(p6, 16) ? 0x86dd : 0x0800);
	NEXT;
mac:
	memcpy(d, p, 6);
	NEXT;
const16:
	st16(d, AUX(op)->val);
	NEXT;
ipver:
	x = ldn(p, AUX(op)->len);
	if (x == 4 || x == 6)
		st16(d, x == 4 ? 0x0800 : 0x86dd);
	else
		drop |= 1ull << AUX(op)->bit;
	NEXT;
vlan:
	st16(d, ldn(p, AUX(op)->len) & 0xfff);
	NEXT;
label:
	st32(d, ldn(p, AUX(op)->len) & 0xfffff);
	NEXT;
hi8:
	st8(d, ldn(p, AUX(op)->len) >> 8);
	NEXT;
lo8:
	st8(d, ldn(p, AUX(op)->len));
	NEXT;
ntp_ns:
	st64(d, ntp_to_ns(ld64(p), 0));
	NEXT;
ntp_us:
	st64(d, ntp_to_ns(ld64(p), 1));
	NEXT;
ms:
	st64(d, ldn(p, AUX(op)->len) * 1000000ull);
	NEXT;
sec:
	st64(d, ldn(p, AUX(op)->len) * NS_PER_S);
	NEXT;
delta_us:
	st64(d, (uint64_t)r->m->export_time * NS_PER_S - ldn(p, AUX(op)->len) * 1000);
	NEXT;
ms8:
	st64(d, ld64(p) * 1000000ull);
	NEXT;
sec4:
	st64(d, ld32(p) * NS_PER_S);
	NEXT;
up5:
	st64(d, up_to_ns(exp_ns_of(r->m), r->m->sys_uptime_ms, (uint32_t)ld32(p), 0));
	NEXT;
up9:
	st64(d, up_to_ns(exp_ns_of(r->m), r->m->sys_uptime_ms, (uint32_t)ld32(p), NF9_SLACK_MS));
	NEXT;
uptime:
	x = ldn(p, AUX(op)->len);
	if (r->m->proto != WEIR_PROTO_IPFIX)
		st64(d, uptime_to_ns(r->m, (uint32_t)x));
	else if (r->sys_init_ms >= 0)
		st64(d, init_uptime_to_ns(r->m, (uint64_t)r->sys_init_ms, x));
	else
		drop |= 1ull << AUX(op)->bit;
	NEXT;
done:
	return drop;
#undef NEXT
#undef SRC
#undef AUX
}
