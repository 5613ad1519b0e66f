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

/* What one run needs and what it counts. */
struct run {
	struct vis_detector *det;
	struct nn_ctx *ctx;
	struct vis_detect_params params;
	struct vis_image face, up, canvas;
	uint8_t *in; /* the model's input, side x side */
	int side;
	long used, found, direct, direct_found;
	long correct[NM];
};

/* Scores one FER record (label byte, then 48x48 pixels): on its own crop,
 * then re-found in a canvas and re-cropped at every margin. -1 when out
 * of memory. */
static int score_record(struct run *r, const uint8_t *p)
{
	struct ms_rect box;
	float probs[NN_CLASSES];
	int nf = 0, ok;

	if (p[0] >= NN_CLASSES)
		return 0;
	r->used++;
	memcpy(r->face.px, p + 1, FER_SIDE * FER_SIDE);
	vis_crop_resize(&r->face, (struct ms_rect){0, 0, FER_SIDE, FER_SIDE},
			0.0f, r->side, r->side, r->in);
	nn_classify(r->ctx, r->in, 0, probs);
	ok = nn_argmax(probs) == p[0];
	r->direct += ok;
	/* the canvas: the face upscaled, its edges repeated outward */
	vis_image_release(&r->up);
	if (vis_image_resize(&r->face, FER_SIDE * UP, FER_SIDE * UP, &r->up))
		return -1;
	vis_crop_resize(
		&r->up,
		(struct ms_rect){-BORDER, -BORDER, r->canvas.w, r->canvas.h},
		0.0f, r->canvas.w, r->canvas.h, r->canvas.px);
	if (vis_detect(r->det, &r->canvas, &r->params, &box, 1, &nf) || nf == 0)
		return 0;
	r->found++;
	r->direct_found += ok;
	for (size_t m = 0; m < NM; m++) {
		vis_crop_resize(&r->canvas, box, margins[m], r->side, r->side,
				r->in);
		nn_classify(r->ctx, r->in, 0, probs);
		r->correct[m] += nn_argmax(probs) == p[0];
	}
	return 0;
}

static void report(const struct run *r)
{
	long used = r->used ? r->used : 1, found = r->found ? r->found : 1;

	printf("faces %ld, found by the cascade %ld (%.1f%%)\n", r->used,
	       r->found, 100.0 * r->found / used);
	printf("model on the original crops: %.2f%% (all %ld)\n",
	       100.0 * r->direct / used, r->used);
	printf("model on the original crops of the found faces: %.2f%%\n",
	       100.0 * r->direct_found / found);
	printf("margin  accuracy on re-cropped found faces\n");
	for (size_t m = 0; m < NM; m++)
		printf("%+.2f   %.2f%%\n", margins[m],
		       100.0 * r->correct[m] / found);
}

int main(int argc, char **argv)
{
	struct vis_cascade *cascade = NULL;
	struct nn_model *model = NULL;
	struct run r = {0};
	char err[MS_ERRLEN];
	uint8_t *data;
	size_t len;
	long n, total;
	int rc = 0;

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
	n = total = (long)(len / FER_REC);
	if (argc > 4) {
		int64_t lim;

		if (ms_parse_i64(argv[4], 1, total, &lim)) {
			fprintf(stderr, "crop_margin: bad N '%s'\n", argv[4]);
			return 2;
		}
		n = (long)lim;
	}
	r.side = nn_model_input_size(model);
	r.det = vis_detector_new(cascade);
	r.ctx = nn_ctx_new(model);
	r.in = malloc((size_t)r.side * r.side);
	if (!r.det || !r.ctx || !r.in ||
	    vis_image_init(&r.face, FER_SIDE, FER_SIDE) ||
	    vis_image_init(&r.canvas, FER_SIDE * UP + 2 * BORDER,
			   FER_SIDE * UP + 2 * BORDER))
		return 1;
	vis_detect_params_default(&r.params);
	r.params.min_size = FER_SIDE * UP / 2;
	/* records are sorted by label: stride through them for a fair mix */
	for (long i = 0; i < n && !rc; i++)
		rc = score_record(&r, data + (i * total / n) * FER_REC);
	if (!rc)
		report(&r);
	free(r.in);
	free(data);
	vis_image_release(&r.face);
	vis_image_release(&r.up);
	vis_image_release(&r.canvas);
	nn_ctx_free(r.ctx);
	vis_detector_free(r.det);
	nn_model_free(model);
	vis_cascade_free(cascade);
	return rc ? 1 : 0;
}
