/* detect.c - the Viola-Jones detector: evaluates a loaded cascade the way
 * OpenCV 4's CascadeClassifier::detectMultiScale does, so both find the
 * same faces. For each scale factor f = scale^k the image is resized to
 * (w/f, h/f) and the cascade runs at its own window size with fixed
 * feature offsets; windows step by 2 pixels below f = 2 and by 1 above,
 * and a window rejected by the first stage also skips its right neighbour.
 * Candidates are grouped as groupRectangles does (group.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vision/detect_internal.h"

#define MAX_SCALES 1024

void vis_detect_params_default(struct vis_detect_params *p)
{
	p->scale = 1.1;
	p->min_neighbors = 5;
	p->min_size = 30;
	p->max_size = 0;
}

struct vis_detector *vis_detector_new(const struct vis_cascade *c)
{
	struct vis_detector *d;

	if (!c)
		return NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->c = c;
	d->feat = ms_calloc((size_t)c->nfeatures, sizeof(*d->feat));
	d->fast = c->max_nodes == 1 && !c->has_tilted;
	/* lanes convert the variance rect's sum of squares as signed */
	d->simd = VIS_HAVE_SIMD && d->fast &&
		  (long)(c->win_w - 2) * (c->win_h - 2) * 65025L < (1L << 31);
	if (d->fast) {
		d->stumps = ms_calloc((size_t)c->ntrees, sizeof(*d->stumps));
		d->stumps2 = ms_calloc((size_t)c->ntrees, sizeof(*d->stumps2));
	}
	if (!d->feat || (d->fast && (!d->stumps || !d->stumps2))) {
		vis_detector_free(d);
		return NULL;
	}
	d->area = (double)(c->win_w - 2) * (c->win_h - 2);
	return d;
}

void vis_detector_free(struct vis_detector *d)
{
	if (!d)
		return;
	free(d->feat);
	free(d->stumps);
	free(d->stumps2);
	free(d->dsum);
	free(d->dsq);
	free(d->row_res);
	free(d->img);
	free(d->sum);
	free(d->sq);
	free(d->tilt);
	free(d->tscratch);
	free(d->rtab);
	free(d->cand);
	free(d);
}

/* Offsets of the four corners of an upright rect in a table with rows
 * `st` entries apart, in the order p0 - p1 - p2 + p3. */
static void rect_ofs(int32_t o[4], int x, int y, int w, int h, int32_t st)
{
	o[0] = y * st + x;
	o[1] = y * st + x + w;
	o[2] = (y + h) * st + x;
	o[3] = (y + h) * st + x + w;
}

static void tilted_ofs(int32_t o[4], int x, int y, int w, int h, int32_t st)
{
	o[0] = y * st + x;
	o[1] = (y + h) * st + x - h;
	o[2] = (y + w) * st + x + w;
	o[3] = (y + w + h) * st + x + w - h;
}

/* Offsets into the split tables: column C of the full table is entry C/2
 * of the even half or, when odd, of the odd half osz entries further. */
static void split_ofs(int32_t o[4], const int32_t full[4], int32_t st,
		      int32_t hs, int32_t osz)
{
	for (int k = 0; k < 4; k++) {
		int32_t row = full[k] / st, col = full[k] % st;

		o[k] = row * hs + col / 2 + (col & 1) * osz;
	}
}

/* Recomputes feature offsets for integral rows `stride` entries apart. */
static void set_stride(struct vis_detector *d, size_t stride)
{
	const struct vis_cascade *c = d->c;
	int32_t st = (int32_t)stride;

	if (d->stride == stride)
		return;
	d->stride = stride;
	rect_ofs(d->nofs, 1, 1, c->win_w - 2, c->win_h - 2, st);
	for (int i = 0; i < c->nfeatures; i++) {
		const struct vis_feature *f = &c->features[i];
		struct vis_opt_feature *o = &d->feat[i];

		memset(o, 0, sizeof(*o));
		o->tilted = f->tilted;
		for (int r = 0; r < f->nrects; r++) {
			if (f->tilted)
				tilted_ofs(o->ofs[r], f->r[r].x, f->r[r].y,
					   f->r[r].w, f->r[r].h, st);
			else
				rect_ofs(o->ofs[r], f->r[r].x, f->r[r].y,
					 f->r[r].w, f->r[r].h, st);
			o->w[r] = f->r[r].weight;
		}
	}
	if (d->fast) {
		for (int t = 0; t < c->ntrees; t++) {
			const struct vis_node *n =
				&c->nodes[c->trees[t].first_node];
			const float *lv = &c->leaves[c->trees[t].first_leaf];
			struct vis_stump *s = &d->stumps[t];

			memcpy(s->ofs, d->feat[n->feature].ofs, sizeof(s->ofs));
			memcpy(s->w, d->feat[n->feature].w, sizeof(s->w));
			s->thr = n->threshold;
			/* one node: both children are leaves (<= 0) */
			s->left = lv[-n->left];
			s->right = lv[-n->right];
		}
	}
	d->osz = 0; /* the split offsets follow (set_split) */
}

/* Split-table offsets depend on the row count too: set per call. */
static void set_split(struct vis_detector *d, size_t rows)
{
	int32_t st = (int32_t)d->stride, hs, osz;

	d->hs = (d->stride + 1) / 2;
	hs = (int32_t)d->hs;
	osz = (int32_t)(d->hs * rows + 64);
	if (!d->fast || (size_t)osz == d->osz)
		return;
	d->osz = (size_t)osz;
	split_ofs(d->nofs2, d->nofs, st, hs, osz);
	for (int t = 0; t < d->c->ntrees; t++) {
		d->stumps2[t] = d->stumps[t];
		for (int r = 0; r < VIS_RECTS; r++)
			split_ofs(d->stumps2[t].ofs[r], d->stumps[t].ofs[r], st,
				  hs, osz);
	}
}

static inline int32_t box(const uint32_t *p, const int32_t o[4])
{
	return (int32_t)(p[o[0]] - p[o[1]] - p[o[2]] + p[o[3]]);
}

/* The feature value before normalisation, summed in OpenCV's order. */
static inline float feature_raw(const struct vis_opt_feature *f,
				const uint32_t *ps, const uint32_t *pt)
{
	const uint32_t *p = f->tilted ? pt : ps;
	float v = f->w[0] * (float)box(p, f->ofs[0]) +
		  f->w[1] * (float)box(p, f->ofs[1]);

	if (f->w[2] != 0.0f)
		v += f->w[2] * (float)box(p, f->ofs[2]);
	return v;
}

int vis_eval_stumps_from(const struct vis_detector *d,
			 const struct vis_stump *stumps, const uint32_t *ps,
			 float vnf, int first, double *stage_sum)
{
	const struct vis_cascade *c = d->c;
	const struct vis_stump *s = stumps + c->stages[first].first_tree;
	double t = 0;

	for (int si = first; si < c->nstages; si++) {
		const struct vis_stump *end = s + c->stages[si].ntrees;

		t = 0;
		for (; s < end; s++) {
			float v = s->w[0] * (float)box(ps, s->ofs[0]) +
				  s->w[1] * (float)box(ps, s->ofs[1]);

			if (s->w[2] != 0.0f)
				v += s->w[2] * (float)box(ps, s->ofs[2]);
			v *= vnf;
			t += v < s->thr ? s->left : s->right;
		}
		if (t < c->stages[si].threshold) {
			if (stage_sum)
				*stage_sum = t;
			return si;
		}
	}
	if (stage_sum)
		*stage_sum = t;
	return c->nstages;
}

int vis_eval_window(const struct vis_detector *d, const uint32_t *sum,
		    const uint32_t *sq, const uint32_t *tilt, size_t pos,
		    double *stage_sum)
{
	const struct vis_cascade *c = d->c;
	const uint32_t *ps = sum + pos, *pt = tilt ? tilt + pos : NULL;
	int32_t vs = box(ps, d->nofs);
	uint32_t vq = (uint32_t)box(sq + pos, d->nofs);
	double nf = d->area * vq - (double)vs * vs, t = 0;
	float vnf;

	if (!(nf > 0.))
		return -1;
	vnf = (float)(1. / sqrt(nf));
	if (!(d->area * vnf < 1e-1))
		return -1;
	if (d->fast) {
		return vis_eval_stumps_from(d, d->stumps, ps, vnf, 0,
					    stage_sum);
	} else {
		for (int si = 0; si < c->nstages; si++) {
			const struct vis_stage *st = &c->stages[si];

			t = 0;
			for (int k = 0; k < st->ntrees; k++) {
				const struct vis_tree *tr =
					&c->trees[st->first_tree + k];
				const struct vis_node *nodes =
					&c->nodes[tr->first_node];
				int idx = 0;

				do {
					const struct vis_node *n = &nodes[idx];
					float v = feature_raw(
						&d->feat[n->feature], ps, pt);

					v *= vnf;
					idx = v < n->threshold ? n->left
							       : n->right;
				} while (idx > 0);
				t += c->leaves[tr->first_leaf - idx];
			}
			if (t < st->threshold) {
				if (stage_sum)
					*stage_sum = t;
				return si;
			}
		}
	}
	if (stage_sum)
		*stage_sum = t;
	return c->nstages;
}

/* Makes sure every scratch table holds an image of w x h pixels. */
static int reserve(struct vis_detector *d, int w, int h)
{
	size_t px = (size_t)w * (size_t)h;
	size_t tab = ((size_t)w + 1) * ((size_t)h + 1);

	if (px > d->img_cap) {
		free(d->img);
		d->img = malloc(px);
		d->img_cap = d->img ? px : 0;
	}
	if (tab > d->tab_cap) {
		free(d->sum);
		free(d->sq);
		free(d->tilt);
		/* + 64: eight-lane loads may run past the last window */
		d->sum = ms_calloc(tab + 64, sizeof(uint32_t));
		d->sq = ms_calloc(tab + 64, sizeof(uint32_t));
		d->tilt = d->c->has_tilted
				  ? ms_calloc(tab + 64, sizeof(uint32_t))
				  : NULL;
		d->tab_cap = d->sum && d->sq && (d->tilt || !d->c->has_tilted)
				     ? tab
				     : 0;
	}
	if ((size_t)w + (size_t)h + 2 > d->row_cap) {
		size_t n = (size_t)w + (size_t)h + 2;
		free(d->tscratch);
		free(d->rtab);
		d->tscratch = ms_mallocarray(4 * n, sizeof(uint32_t));
		d->rtab = ms_mallocarray(5 * n, sizeof(int32_t));
		d->row_cap = d->tscratch && d->rtab ? n : 0;
	}
	if (d->simd) {
		size_t split =
			2 * ((((size_t)w + 2) / 2) * ((size_t)h + 1) + 64) + 64;

		if (split > d->dcap) {
			free(d->dsum);
			free(d->dsq);
			d->dsum = ms_calloc(split, sizeof(uint32_t));
			d->dsq = ms_calloc(split, sizeof(uint32_t));
			d->dcap = d->dsum && d->dsq ? split : 0;
			if (!d->dcap)
				return MS_ENOMEM;
		}
		if ((size_t)w + 16 > d->rowbuf_cap) {
			free(d->row_res);
			d->row_res =
				ms_mallocarray((size_t)w + 16, sizeof(int));
			d->rowbuf_cap = d->row_res ? (size_t)w + 16 : 0;
			if (!d->rowbuf_cap)
				return MS_ENOMEM;
		}
	}
	if (!d->img || d->img_cap < px || d->tab_cap < tab ||
	    d->row_cap < (size_t)w + (size_t)h + 2)
		return MS_ENOMEM;
	return MS_OK;
}

#if VIS_HAVE_SIMD
/* Copies the even and odd columns of a table into the split layout. */
static void split_table(const uint32_t *t, size_t st, int w, int h,
			uint32_t *out, size_t hs, size_t osz)
{
	for (int y = 0; y <= h; y++) {
		const uint32_t *r = t + (size_t)y * st;
		uint32_t *e = out + (size_t)y * hs, *o = e + osz;

		for (int x = 0; 2 * x <= w; x++) {
			e[x] = r[2 * x];
			if (2 * x + 1 <= w)
				o[x] = r[2 * x + 1];
		}
	}
}

/* The eight-lane scan of one level (all-stump cascades). */
static int scan_simd(struct vis_detector *d, int sw, int sh, int step, int xend,
		     int yend, float sc, int ww, int wh)
{
	const struct vis_cascade *c = d->c;
	const uint32_t *ts = d->sum, *tq = d->sq;
	const struct vis_stump *stumps = d->stumps;
	const int32_t *nofs = d->nofs;
	size_t rs = d->stride;
	int npos = (xend + step - 1) / step, rc;

	if (step == 2) {
		split_table(d->sum, d->stride, sw, sh, d->dsum, d->hs, d->osz);
		split_table(d->sq, d->stride, sw, sh, d->dsq, d->hs, d->osz);
		ts = d->dsum;
		tq = d->dsq;
		stumps = d->stumps2;
		nofs = d->nofs2;
		rs = d->hs;
	}
	for (int y = 0; y < yend; y += step) {
		int skip = 0;

		for (int i = 0; i < npos; i += 8)
			vis_eval_block(d, ts, tq, stumps, nofs,
				       (size_t)y * rs + (size_t)i,
				       MS_MIN(8, npos - i), d->row_res + i,
				       &skip);
		for (int i = 0; i < npos; i++) {
			int r = d->row_res[i], x = i * step;

			if (r == c->nstages) {
				struct ms_rect b = {(int)lrintf((float)x * sc),
						    (int)lrintf((float)y * sc),
						    ww, wh};

				rc = vis_candidate_add(d, b);
				if (rc)
					return rc;
			} else if (r == 0) {
				i++; /* OpenCV skips the next window */
			}
		}
	}
	return MS_OK;
}
#endif

int vis_candidate_add(struct vis_detector *d, struct ms_rect r)
{
	if (d->ncand == d->cand_cap) {
		int ncap = d->cand_cap ? d->cand_cap * 2 : 256;
		void *p;

		if (d->cand_cap >= VIS_MAX_CANDIDATES) {
			d->overflow = 1;
			return MS_OK;
		}
		ncap = MS_MIN(ncap, VIS_MAX_CANDIDATES);
		p = realloc(d->cand, (size_t)ncap * sizeof(*d->cand));
		if (!p)
			return MS_ENOMEM;
		d->cand = p;
		d->cand_cap = ncap;
	}
	d->cand[d->ncand++] = r;
	return MS_OK;
}

/* One pyramid level: resize, integrate, scan. */
static int scan_scale(struct vis_detector *d, const struct vis_image *img,
		      float sc)
{
	const struct vis_cascade *c = d->c;
	int sw = (int)lrintf((float)img->w / sc);
	int sh = (int)lrintf((float)img->h / sc);
	int step = sc >= 2 ? 1 : 2;
	int ww = (int)lrintf((float)c->win_w * sc);
	int wh = (int)lrintf((float)c->win_h * sc);
	int xend = sw + 1 - c->win_w, yend = sh + 1 - c->win_h;
	size_t st = d->stride;
	int rc;

	if (sw <= 0 || sh <= 0 || xend <= 0 || yend <= 0)
		return MS_OK;
	vis_resize_linear(img->px, img->w, img->h, (size_t)img->w, d->img, sw,
			  sh, (size_t)sw, d->rtab, d->rtab + 3 * (sw + sh));
	vis_integral_scratch(d->img, sw, sh, (size_t)sw, d->sum, d->sq, d->tilt,
			     st, d->tscratch);
#if VIS_HAVE_SIMD
	if (d->simd)
		return scan_simd(d, sw, sh, step, xend, yend, sc, ww, wh);
#endif
	for (int y = 0; y < yend; y += step) {
		for (int x = 0; x < xend; x += step) {
			int r = vis_eval_window(d, d->sum, d->sq, d->tilt,
						(size_t)y * st + (size_t)x,
						NULL);

			if (r == c->nstages) {
				struct ms_rect b = {(int)lrintf((float)x * sc),
						    (int)lrintf((float)y * sc),
						    ww, wh};

				rc = vis_candidate_add(d, b);
				if (rc)
					return rc;
			} else if (r == 0) {
				x += step;
			}
		}
	}
	return MS_OK;
}

static int by_size_desc(const void *a, const void *b)
{
	const struct ms_rect *p = a, *q = b;
	long ap = (long)p->w * p->h, aq = (long)q->w * q->h;

	if (ap != aq)
		return ap < aq ? 1 : -1;
	if (p->y != q->y)
		return p->y < q->y ? -1 : 1;
	return p->x < q->x ? -1 : p->x > q->x;
}

int vis_detect(struct vis_detector *d, const struct vis_image *img,
	       const struct vis_detect_params *p, struct ms_rect *faces,
	       int max, int *n)
{
	const struct vis_cascade *c = d->c;
	float scales[MAX_SCALES];
	int nscales = 0, minw, minh, maxw, maxh, ngroups = 0, rc;
	double f;

	*n = 0;
	if (!img || !img->px || img->w <= 0 || img->h <= 0 || !p ||
	    !(p->scale >= 1.001 && p->scale <= 10) || p->min_neighbors < 0)
		return MS_EINVAL;
	minw = MS_MAX(p->min_size, 0);
	minh = minw;
	maxw = p->max_size > 0 ? p->max_size : img->w;
	maxh = p->max_size > 0 ? p->max_size : img->h;
	for (f = 1; nscales < MAX_SCALES; f *= p->scale) {
		int ww = (int)lrint(c->win_w * f),
		    wh = (int)lrint(c->win_h * f);

		if (ww > maxw || wh > maxh || ww > img->w || wh > img->h)
			break;
		if (ww < minw || wh < minh)
			continue;
		scales[nscales++] = (float)f;
	}
	d->ncand = 0;
	d->overflow = 0;
	if (nscales == 0)
		return MS_OK;
	{
		/* the first scale is the largest image */
		int w0 = (int)lrintf((float)img->w / scales[0]);
		int h0 = (int)lrintf((float)img->h / scales[0]);

		rc = reserve(d, MS_MAX(w0, 1), MS_MAX(h0, 1));
		if (rc)
			return rc;
		set_stride(d, (size_t)MS_MAX(w0, 1) + 1);
		set_split(d, (size_t)MS_MAX(h0, 1) + 1);
	}
	for (int s = 0; s < nscales; s++) {
		rc = scan_scale(d, img, scales[s]);
		if (rc)
			return rc;
	}
	if (d->overflow)
		ms_warn("detector: more than %d candidate windows; extra ones "
			"dropped",
			VIS_MAX_CANDIDATES);
	rc = vis_group(d, p->min_neighbors, 0.2, &ngroups);
	if (rc)
		return rc;
	/* clip to the image (as CascadeClassifier::detectMultiScale) */
	{
		int k = 0;
		for (int i = 0; i < ngroups; i++) {
			struct ms_rect r = d->cand[i];
			int x0 = MS_MAX(r.x, 0), y0 = MS_MAX(r.y, 0);
			int x1 = MS_MIN(r.x + r.w, img->w);
			int y1 = MS_MIN(r.y + r.h, img->h);

			if (x1 > x0 && y1 > y0)
				d->cand[k++] = (struct ms_rect){x0, y0, x1 - x0,
								y1 - y0};
		}
		ngroups = k;
	}
	if (ngroups > 1)
		qsort(d->cand, (size_t)ngroups, sizeof(*d->cand), by_size_desc);
	for (int i = 0; i < ngroups && i < max; i++)
		faces[i] = d->cand[i];
	*n = ngroups;
	return MS_OK;
}

int vis_cascade_nstages(const struct vis_cascade *c)
{
	return c->nstages;
}

int vis_cascade_eval(const struct vis_cascade *c, const struct vis_image *img,
		     int x, int y, int *stages, double *stage_sum)
{
	struct vis_detector *d;
	int rc;

	if (!c || !img || !img->px || x < 0 || y < 0 || x + c->win_w > img->w ||
	    y + c->win_h > img->h)
		return MS_EINVAL;
	d = vis_detector_new(c);
	if (!d)
		return MS_ENOMEM;
	rc = reserve(d, img->w, img->h);
	if (rc == MS_OK) {
		size_t st = (size_t)img->w + 1;

		set_stride(d, st);
		vis_integral_scratch(img->px, img->w, img->h, (size_t)img->w,
				     d->sum, d->sq, d->tilt, st, d->tscratch);
		*stages =
			vis_eval_window(d, d->sum, d->sq, d->tilt,
					(size_t)y * st + (size_t)x, stage_sum);
	}
	vis_detector_free(d);
	return rc;
}
