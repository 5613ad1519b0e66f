/* fuzz_cascade.c - libFuzzer harness for the cascade XML loader: parses
 * the input and, when it loads, runs the detector on a small synthetic
 * image so the offsets and trees the loader accepted get exercised. */
#include <stddef.h>
#include <stdint.h>

#include "moodsync/vision.h"

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
	struct vis_cascade *c = NULL;
	struct vis_detector *d;
	struct vis_detect_params p;
	struct vis_image img;
	struct ms_rect faces[8];
	char err[MS_ERRLEN];
	int n, stages;

	if (vis_cascade_parse((const char *)buf, len, &c, err, sizeof(err)))
		return 0;
	if (vis_image_init(&img, 72, 64) == MS_OK) {
		for (int i = 0; i < img.w * img.h; i++)
			img.px[i] = (uint8_t)((i * 37) ^ (i >> 5) * 11);
		d = vis_detector_new(c);
		if (d) {
			vis_detect_params_default(&p);
			p.scale = 1.3;
			p.min_size = 0;
			p.min_neighbors = 1;
			vis_detect(d, &img, &p, faces, 8, &n);
			vis_detector_free(d);
		}
		vis_cascade_eval(c, &img, 0, 0, &stages, NULL);
		vis_image_release(&img);
	}
	vis_cascade_free(c);
	return 0;
}
