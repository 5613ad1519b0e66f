/* fuzz_image.c - libFuzzer harness for the image decode path (JPEG and
 * PNG from memory, format sniffing, caps), then resize and crop of what
 * decoded. */
#include <stddef.h>
#include <stdint.h>

#include "moodsync/vision.h"

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	struct vis_image img, small;
	uint8_t crop[48 * 48];
	char err[MS_ERRLEN];

	if (vis_image_decode(buf, len, &img, err, sizeof(err)))
		return 0;
	if (vis_image_resize(&img, 17, 13, &small) == MS_OK)
		vis_image_release(&small);
	vis_crop_resize(
		&img,
		(struct ms_rect){img.w / 4, img.h / 4, img.w / 2, img.h / 2},
		0.2f, 48, 48, crop);
	vis_image_release(&img);
	return 0;
}
