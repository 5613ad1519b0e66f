/* pipeline.c - one frame from bytes to emotions (see pipeline.h): decode,
 * detect, crop, classify. The webcam fast path trades a little recall on
 * small faces for speed: it detects on a copy at most FAST_WIDTH wide, only
 * for faces of a plausible webcam size, and first looks near the face the
 * stream showed last. Callers rescan the full frame now and then by passing
 * no hint. */
#include <string.h>

#include "moodsync/pipeline.h"

#define FAST_MIN_FRAC 8	   /* plausible webcam face: side >= frame/8 */
#define HINT_GROW 0.5	   /* search region: hint grown by this per side */
#define HINT_MIN_SCALE 0.6 /* sizes searched around a hint, x its side */
#define HINT_MAX_SCALE 1.8
/* Crop margin for the classifier, a fraction of the box side per edge.
 * bench/crop_margin re-finds PublicTest faces with the cascade and scores
 * each margin: -0.05 66.1%, 0 67.8%, +0.05 67.5%, +0.10 66.8% (2,696
 * faces; the same faces' original crops score 68.4%). */
#define FACE_MARGIN 0.0f

struct pipeline {
	struct vis_cascade *cascade;
	struct nn_model *model; /* NULL: faces without emotions */
	struct vis_detect_params params;
};

struct pipe_worker {
	const struct pipeline *p;
	struct vis_detector *det;
	struct nn_ctx *nn;    /* NULL without a model */
	uint8_t *face;	      /* side*side crop for the classifier */
	struct vis_image roi; /* reused scratch for the fast path */
};

int pipe_load(const char *cascade_path, const char *model_path,
	      struct pipeline **out, char *err, size_t errlen)
{
	struct pipeline *p = calloc(1, sizeof(*p));
	int rc;

	if (!p)
		return ms_errf(err, errlen, MS_ENOMEM, "out of memory");
	vis_detect_params_default(&p->params);
	rc = vis_cascade_load(cascade_path, &p->cascade, err, errlen);
	if (rc)
		goto out_free;
	if (model_path) {
		rc = nn_model_load(model_path, &p->model, err, errlen);
		if (rc)
			goto out_free;
		/* callers parallelise over frames: one BLAS thread per face */
		nn_set_threads(1);
	}
	*out = p;
	return MS_OK;
out_free:
	pipe_free(p);
	return rc;
}

void pipe_free(struct pipeline *p)
{
	if (!p)
		return;
	vis_cascade_free(p->cascade);
	nn_model_free(p->model);
	free(p);
}

int pipe_has_model(const struct pipeline *p)
{
	return p->model != NULL;
}

int pipe_model_nets(const struct pipeline *p)
{
	return p->model ? nn_model_members(p->model) : 0;
}

struct pipe_worker *pipe_worker_new(const struct pipeline *p)
{
	struct pipe_worker *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->p = p;
	w->det = vis_detector_new(p->cascade);
	if (!w->det)
		goto out_free;
	if (p->model) {
		int side = nn_model_input_size(p->model);

		w->nn = nn_ctx_new(p->model);
		w->face = ms_mallocarray((size_t)side, (size_t)side);
		if (!w->nn || !w->face)
			goto out_free;
	}
	return w;
out_free:
	pipe_worker_free(w);
	return NULL;
}

void pipe_worker_free(struct pipe_worker *w)
{
	if (!w)
		return;
	vis_detector_free(w->det);
	nn_ctx_free(w->nn);
	free(w->face);
	vis_image_release(&w->roi);
	free(w);
}

/* Detects inside region `r` (clamped) of `img` and maps the boxes back to
 * image coordinates. A region short of the whole image is copied into the
 * worker's scratch first. */
static int detect_region(struct pipe_worker *w, const struct vis_image *img,
			 struct ms_rect r, const struct vis_detect_params *p,
			 struct pipe_frame *out)
{
	struct ms_rect boxes[PIPE_MAX_FACES];
	const struct vis_image *src = img;
	int n = 0, rc;

	if (r.x != 0 || r.y != 0 || r.w != img->w || r.h != img->h) {
		vis_image_release(&w->roi);
		rc = vis_image_init(&w->roi, r.w, r.h);
		if (rc)
			return rc;
		for (int y = 0; y < r.h; y++)
			memcpy(w->roi.px + (size_t)y * r.w,
			       img->px + (size_t)(r.y + y) * img->w + r.x,
			       (size_t)r.w);
		src = &w->roi;
	}
	rc = vis_detect(w->det, src, p, boxes, PIPE_MAX_FACES, &n);
	if (rc)
		return rc;
	n = MS_MIN(n, PIPE_MAX_FACES);
	for (int i = 0; i < n; i++) {
		out->faces[i].box = boxes[i];
		out->faces[i].box.x += r.x;
		out->faces[i].box.y += r.y;
	}
	out->nfaces = n;
	return MS_OK;
}

static struct ms_rect rect_clamp(struct ms_rect r, int w, int h)
{
	int x1 = MS_MIN(r.x + r.w, w), y1 = MS_MIN(r.y + r.h, h);

	r.x = MS_MAX(r.x, 0);
	r.y = MS_MAX(r.y, 0);
	r.w = MS_MAX(x1 - r.x, 0);
	r.h = MS_MAX(y1 - r.y, 0);
	return r;
}

/* The webcam fast path: near the hint first, then the whole frame, each
 * restricted to plausible face sizes. */
static int detect_fast(struct pipe_worker *w, const struct vis_image *img,
		       const struct pipe_frame_opts *opts,
		       const struct vis_detect_params *base,
		       struct pipe_frame *out)
{
	struct vis_detect_params p = *base;
	struct ms_rect whole = {0, 0, img->w, img->h};
	int side = MS_MIN(img->w, img->h);
	int rc;

	p.min_size = MS_MAX(p.min_size, side / FAST_MIN_FRAC);
	if (opts->hint && opts->hint->w > 0 && opts->hint->h > 0) {
		const struct ms_rect *h = opts->hint;
		int g = (int)(MS_MAX(h->w, h->h) * HINT_GROW);
		struct ms_rect r = {h->x - g, h->y - g, h->w + 2 * g,
				    h->h + 2 * g};
		struct vis_detect_params hp = p;

		r = rect_clamp(r, img->w, img->h);
		hp.min_size = MS_MAX(
			p.min_size, (int)(MS_MIN(h->w, h->h) * HINT_MIN_SCALE));
		hp.max_size = (int)(MS_MAX(h->w, h->h) * HINT_MAX_SCALE);
		if (r.w > 0 && r.h > 0) {
			/* full resolution: the detector's pyramid starts at
			 * min_size anyway, a shrunk copy first only costs */
			rc = detect_region(w, img, r, &hp, out);
			if (rc || out->nfaces > 0)
				return rc;
		}
	}
	return detect_region(w, img, whole, &p, out);
}

static int classify(struct pipe_worker *w, const struct vis_image *img, int tta,
		    struct pipe_frame *out)
{
	int side;

	for (int i = 0; i < out->nfaces; i++) {
		out->faces[i].emotion = -1;
		memset(out->faces[i].probs, 0, sizeof(out->faces[i].probs));
	}
	if (!w->nn)
		return MS_OK;
	side = nn_model_input_size(w->p->model);
	for (int i = 0; i < out->nfaces; i++) {
		struct pipe_face *f = &out->faces[i];
		int rc;

		vis_crop_resize(img, f->box, FACE_MARGIN, side, side, w->face);
		rc = nn_classify(w->nn, w->face, tta, f->probs);
		if (rc)
			return rc;
		f->emotion = nn_argmax(f->probs);
	}
	return MS_OK;
}

int pipe_frame_run_image(struct pipe_worker *w, const struct vis_image *img,
			 const struct pipe_frame_opts *opts,
			 struct pipe_frame *out)
{
	const struct vis_detect_params *p =
		opts->params ? opts->params : &w->p->params;
	double t0 = ms_now_ms(), t1;
	int rc;

	out->width = img->w;
	out->height = img->h;
	out->nfaces = 0;
	if (opts->fast)
		rc = detect_fast(w, img, opts, p, out);
	else
		rc = detect_region(
			w, img, (struct ms_rect){0, 0, img->w, img->h}, p, out);
	t1 = ms_now_ms();
	out->ms_detect = t1 - t0;
	if (rc)
		return rc;
	rc = classify(w, img, opts->tta, out);
	out->ms_classify = ms_now_ms() - t1;
	return rc;
}

int pipe_frame_run(struct pipe_worker *w, const uint8_t *buf, size_t len,
		   const struct pipe_frame_opts *opts, struct pipe_frame *out,
		   char *err, size_t errlen)
{
	struct vis_image img;
	double t0 = ms_now_ms();
	int rc = vis_image_decode(buf, len, &img, err, errlen);

	if (rc)
		return rc;
	out->ms_decode = ms_now_ms() - t0;
	rc = pipe_frame_run_image(w, &img, opts, out);
	if (rc)
		ms_errf(err, errlen, rc, "frame: %s", ms_strerror(rc));
	vis_image_release(&img);
	return rc;
}
