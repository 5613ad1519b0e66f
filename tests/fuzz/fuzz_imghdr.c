/* fuzz_imghdr.c - libFuzzer harness for src/pipeline/imghdr.c, the JPEG/PNG
 * header reader that POST /api/frame runs on every uploaded body before
 * decoding it. */
#include <stddef.h>
#include <stdint.h>

#include "moodsync/pipeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	uint32_t w = 0, h = 0;

	if (pipe_image_dims(buf, len, &w, &h) && w == 0 && h == 0)
		return 0; /* a declared 0x0 image is fine: the decoder refuses
			   */
	return 0;
}
