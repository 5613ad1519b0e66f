/* score.c - the matching rule for scoring face detections against ground
 * truth: greedy one-to-one matching at an IoU threshold, best pairs first.
 * `moodsync eval-faces` uses it; bench/opencv_detect.cpp restates the same
 * few lines for OpenCV's detections. */
#include <stdlib.h>

#include "moodsync/vision.h"

struct pair {
	double iou;
	int g, d;
};

static int by_iou_desc(const void *a, const void *b)
{
	const struct pair *p = a, *q = b;

	if (p->iou != q->iou)
		return p->iou < q->iou ? 1 : -1;
	if (p->g != q->g)
		return p->g < q->g ? -1 : 1;
	return p->d < q->d ? -1 : p->d > q->d;
}

int vis_match_greedy(const struct ms_rect *gt, int ngt,
		     const struct ms_rect *det, int ndet, double min_iou,
		     int *matched_gt)
{
	struct pair *pairs;
	char *used_g, *used_d;
	int np = 0, matches = 0;

	if (matched_gt)
		for (int g = 0; g < ngt; g++)
			matched_gt[g] = 0;
	if (ngt <= 0 || ndet <= 0)
		return 0;
	pairs = ms_mallocarray((size_t)ngt * (size_t)ndet, sizeof(*pairs));
	used_g = calloc((size_t)ngt, 1);
	used_d = calloc((size_t)ndet, 1);
	if (!pairs || !used_g || !used_d) {
		matches = MS_ENOMEM;
		goto out_free;
	}
	for (int g = 0; g < ngt; g++)
		for (int d = 0; d < ndet; d++) {
			double iou = ms_rect_iou(gt[g], det[d]);
			if (iou >= min_iou)
				pairs[np++] = (struct pair){iou, g, d};
		}
	qsort(pairs, (size_t)np, sizeof(*pairs), by_iou_desc);
	for (int i = 0; i < np; i++) {
		if (used_g[pairs[i].g] || used_d[pairs[i].d])
			continue;
		used_g[pairs[i].g] = used_d[pairs[i].d] = 1;
		if (matched_gt)
			matched_gt[pairs[i].g] = 1;
		matches++;
	}
out_free:
	free(pairs);
	free(used_g);
	free(used_d);
	return matches;
}
