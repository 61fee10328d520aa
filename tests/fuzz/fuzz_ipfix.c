/* libFuzzer harness: ipfix_decode() over messages sharing one template cache. */
#include "fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_run(ipfix_decode, data, size);
}
