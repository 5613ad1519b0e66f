/* detect_internal.h - the detector's scratch and the pieces of it that
 * detect.c and group.c share. One struct vis_detector per thread. */
#ifndef MOODSYNC_DETECT_INTERNAL_H
#define MOODSYNC_DETECT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "vision/vision_internal.h"

/* Raw windows kept per call; past it extra ones are dropped (with a
 * warning), which bounds grouping time and memory on hostile images. */
#define VIS_MAX_CANDIDATES 65536

/* A feature with corner offsets into integral tables of one row stride. */
struct vis_opt_feature {
	int32_t ofs[VIS_RECTS][4]; /* table entries: p0 - p1 - p2 + p3 */
	float w[VIS_RECTS];	   /* rect weights, 0 when unused */
	int tilted;		   /* offsets are into the tilted table */
};

/* A one-node tree with its feature inlined, for the all-stump cascades
 * (frontalface_default and most others): one linear walk, no lookups. */
struct vis_stump {
	int32_t ofs[VIS_RECTS][4];
	float w[VIS_RECTS];
	float thr, left, right; /* value < thr ? left : right */
};

struct vis_detector {
	const struct vis_cascade *c;  /* borrowed */
	double area;		      /* of the variance rect, pixels */
	int fast;		      /* all stumps, no tilted: use stumps */
	size_t stride;		      /* integral row stride the offsets use */
	int32_t nofs[4];	      /* variance rect corners */
	struct vis_opt_feature *feat; /* c->nfeatures */
	struct vis_stump *stumps;     /* c->ntrees when fast */
	uint8_t *img;		      /* resized level, img_cap bytes */
	size_t img_cap;
	uint32_t *sum, *sq, *tilt; /* integral tables, tab_cap entries */
	size_t tab_cap;
	uint32_t *tscratch;   /* 4 * row_cap: tilted rows */
	int32_t *rtab;	      /* 5 * row_cap: resize tables + rows */
	size_t row_cap;	      /* w + h + 2 of the largest level */
	struct ms_rect *cand; /* raw windows, then groups */
	int ncand, cand_cap, overflow;
	/* the eight-lane path (detect_simd.c) */
	int simd;		   /* usable for this cascade and build */
	size_t hs;		   /* row stride of the split tables */
	size_t osz;		   /* odd columns start osz entries in */
	int32_t nofs2[4];	   /* variance rect in the split tables */
	struct vis_stump *stumps2; /* stumps with split-table offsets */
	uint32_t *dsum, *dsq;	   /* split tables, 2 * osz entries */
	size_t dcap;
	int *row_res; /* per window of a row: result */
	size_t rowbuf_cap;
};

/* Stages passed by the window at entry `pos` of the tables, or -1 when
 * the variance check rejects it. */
int vis_eval_window(const struct vis_detector *d, const uint32_t *sum,
		    const uint32_t *sq, const uint32_t *tilt, size_t pos,
		    double *stage_sum);
int vis_candidate_add(struct vis_detector *d, struct ms_rect r);
/* Stumps from stage `first` on, for a window at `ps` whose variance factor
 * is `vnf`: the number of stages passed in all; *stage_sum (may be NULL)
 * the leaf sum of the last stage run. */
int vis_eval_stumps_from(const struct vis_detector *d,
			 const struct vis_stump *stumps, const uint32_t *ps,
			 float vnf, int first, double *stage_sum);

#ifdef __AVX2__
#define VIS_HAVE_SIMD 1
/* Evaluates `nlanes` (<= 8) windows at entries base, base+1, ... of the
 * tables ts (sums) and tq (squares), with corner offsets from `stumps` and
 * `nofs`. res[k]: stages passed, or -1 when flat. *skip (in and out) says
 * whether the first window, and then the one after the last, is skipped by
 * OpenCV's rule (its left neighbour was evaluated and rejected by stage 0);
 * skipped lanes hold no result. */
int vis_eval_block(const struct vis_detector *d, const uint32_t *ts,
		   const uint32_t *tq, const struct vis_stump *stumps,
		   const int32_t nofs[4], size_t base, int nlanes, int *res,
		   int *skip);
#else
#define VIS_HAVE_SIMD 0
#endif
/* groupRectangles(cand, min_neighbors, eps): replaces d->cand[0..ncand)
 * with *ngroups averaged groups in d->cand[0..*ngroups). */
int vis_group(struct vis_detector *d, int min_neighbors, double eps,
	      int *ngroups);

#endif
