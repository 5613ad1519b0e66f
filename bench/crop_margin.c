/* crop_margin.c - which crop margin around a Haar face box makes our faces
 * look like FER-2013's? Each PublicTest face is upscaled into a larger
 * photo-like canvas, found again with the cascade, re-cropped from the
 * canvas with margin m (a fraction of the box side per edge), shrunk back
 * to the model's input and classified. The margin with the best accuracy
 * is what src/pipeline/pipeline.c uses (FACE_MARGIN).
 * Usage: crop_margin CASCADE MODEL FER.bin [N] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moodsync/nn.h"
#include "moodsync/vision.h"

#define FER_SIDE 48
#define FER_REC (1 + FER_SIDE * FER_SIDE)
#define UP 3	  /* face upscale into the canvas */
#define BORDER 48 /* canvas border around it, pixels, edge-replicated */

static const float margins[] = {-0.10f, -0.05f, 0.0f,  0.05f, 0.10f,
				0.15f,	0.20f,	0.25f, 0.30f};
#define NM (sizeof(margins) / sizeof(margins[0]))

int main(int argc, char **argv)
{
	struct vis_cascade *cascade = NULL;
	struct nn_model *model = NULL;
	struct vis_detector *det;
	struct nn_ctx *ctx;
	struct vis_detect_params params;
	struct vis_image face = {0}, up = {0}, canvas = {0};
	char err[MS_ERRLEN];
	uint8_t *data, *in;
	size_t len;
	long n, used = 0, found = 0, direct = 0, direct_found = 0;
	long correct[NM] = {0};
	int side;

	if (argc < 4) {
		fprintf(stderr,
			"usage: crop_margin CASCADE MODEL FER.bin [N]\n");
		return 2;
	}
	if (vis_cascade_load(argv[1], &cascade, err, sizeof(err)) ||
	    nn_model_load(argv[2], &model, err, sizeof(err)) ||
	    ms_file_read(argv[3], 1u << 30, &data, &len, err, sizeof(err))) {
		fprintf(stderr, "crop_margin: %s\n", err);
		return 1;
	}
	n = (long)(len / FER_REC);
	if (argc > 4) {
		int64_t lim;

		if (ms_parse_i64(argv[4], 1, n, &lim)) {
			fprintf(stderr, "crop_margin: bad N '%s'\n", argv[4]);
			return 2;
		}
		n = (long)lim;
	}
	side = nn_model_input_size(model);
	det = vis_detector_new(cascade);
	ctx = nn_ctx_new(model);
	in = malloc((size_t)side * side);
	if (!det || !ctx || !in || vis_image_init(&face, FER_SIDE, FER_SIDE) ||
	    vis_image_init(&canvas, FER_SIDE * UP + 2 * BORDER,
			   FER_SIDE * UP + 2 * BORDER))
		return 1;
	vis_detect_params_default(&params);
	params.min_size = FER_SIDE * UP / 2;
	/* records are sorted by label: stride through them for a fair mix */
	for (long r = 0; r < n; r++) {
		long rec = (long)(len / FER_REC) == n
				   ? r
				   : r * (long)(len / FER_REC) / n;
		const uint8_t *p = data + rec * FER_REC;
		struct ms_rect box;
		float probs[NN_CLASSES];
		int nf = 0, ok;

		if (p[0] >= NN_CLASSES)
			continue;
		used++;
		memcpy(face.px, p + 1, FER_SIDE * FER_SIDE);
		vis_crop_resize(&face,
				(struct ms_rect){0, 0, FER_SIDE, FER_SIDE},
				0.0f, side, side, in);
		nn_classify(ctx, in, 0, probs);
		ok = nn_argmax(probs) == p[0];
		direct += ok;
		/* the canvas: the face upscaled, its edges repeated outward */
		vis_image_release(&up);
		if (vis_image_resize(&face, FER_SIDE * UP, FER_SIDE * UP, &up))
			return 1;
		vis_crop_resize(
			&up,
			(struct ms_rect){-BORDER, -BORDER, canvas.w, canvas.h},
			0.0f, canvas.w, canvas.h, canvas.px);
		if (vis_detect(det, &canvas, &params, &box, 1, &nf) || nf == 0)
			continue;
		found++;
		direct_found += ok;
		for (size_t m = 0; m < NM; m++) {
			vis_crop_resize(&canvas, box, margins[m], side, side,
					in);
			nn_classify(ctx, in, 0, probs);
			correct[m] += nn_argmax(probs) == p[0];
		}
	}
	printf("faces %ld, found by the cascade %ld (%.1f%%)\n", used, found,
	       100.0 * found / (used ? used : 1));
	printf("model on the original crops: %.2f%% (all %ld)\n",
	       100.0 * direct / (used ? used : 1), used);
	printf("model on the original crops of the found faces: %.2f%%\n",
	       100.0 * direct_found / (found ? found : 1));
	printf("margin  accuracy on re-cropped found faces\n");
	for (size_t m = 0; m < NM; m++)
		printf("%+.2f   %.2f%%\n", margins[m],
		       100.0 * correct[m] / (found ? found : 1));
	free(in);
	free(data);
	vis_image_release(&face);
	vis_image_release(&up);
	vis_image_release(&canvas);
	nn_ctx_free(ctx);
	vis_detector_free(det);
	nn_model_free(model);
	vis_cascade_free(cascade);
	return 0;
}
