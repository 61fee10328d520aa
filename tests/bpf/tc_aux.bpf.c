/* tc_aux.bpf.c - tc programs the BPF tests and bench/bpf run beside
 * weir's (bpf/weir_tc.bpf.c); not part of weir-exporter.
 *
 * count_only: the empty counting program, the yardstick of the run time
 * per packet: a per-CPU counter and nothing else.
 * vlan_in: puts the tag of the settings into skb->vlan_tci, as a NIC's
 * VLAN offload or the kernel's skb_vlan_untag() on ingress leave it, then
 * tail-calls the program in jmp[0] (weir_ingress). BPF_PROG_TEST_RUN
 * takes no vlan_tci in its context, so this is how the tests give weir a
 * frame whose tag was taken off.
 * vlan_push: the same on a live hook, before weir's program there (a
 * lower tc priority), as a VLAN device on a NIC with tx-vlan-offload
 * leaves the skb on the NIC's egress (the test kernel has no VLAN
 * devices).
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} jmp SEC(".maps");

/* The tag vlan_in puts (TPID 0x8100 or 0x88a8, TCI): the test sets them
 * before each run. */
volatile __u16 tag_proto;
volatile __u16 tag_tci;

/* vlan_in's failures (the helper or the tail call): a test reads it. */
__u64 vlan_in_failed;

SEC("tc")
int count_only(struct __sk_buff *skb)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&seen, &zero);

	(void)skb;
	if (n)
		*n += 1;
	return TC_ACT_UNSPEC;
}

SEC("tc")
int vlan_in(struct __sk_buff *skb)
{
	if (bpf_skb_vlan_push(skb, bpf_htons(tag_proto), tag_tci)) {
		__sync_fetch_and_add(&vlan_in_failed, 1);
		return TC_ACT_UNSPEC;
	}
	bpf_tail_call(skb, &jmp, 0);
	__sync_fetch_and_add(&vlan_in_failed, 1);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int vlan_push(struct __sk_buff *skb)
{
	if (bpf_skb_vlan_push(skb, bpf_htons(tag_proto), tag_tci))
		__sync_fetch_and_add(&vlan_in_failed, 1);
	return TC_ACT_UNSPEC;
}
