/* libFuzzer harness: weir_decode() picks the decoder by version, so one
 * input may mix protocols from one exporter, as a collector's port sees. */
#include "fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_run(weir_decode, data, size);
}
