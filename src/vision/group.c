/* group.c - merges the detector's raw windows as OpenCV's
 * groupRectangles(rects, min_neighbors, eps = 0.2) does: windows are
 * "similar" when every edge is within eps * (mean of the smaller sides) of
 * the other's; similarity classes (transitive closure) with more than
 * min_neighbors members become their average rectangle, and an average
 * that sits inside a stronger one is dropped. With min_neighbors 0 the raw
 * windows are returned as they are. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "vision/detect_internal.h"

struct xkey {
	int x, i;
};

struct group {
	int64_t x, y, w, h; /* sums over members */
	int n;		    /* members */
	struct ms_rect r;   /* average */
};

static int by_x(const void *a, const void *b)
{
	const struct xkey *p = a, *q = b;

	if (p->x != q->x)
		return p->x < q->x ? -1 : 1;
	return p->i < q->i ? -1 : p->i > q->i;
}

static int find(int *parent, int i)
{
	int root = i;

	while (parent[root] != root)
		root = parent[root];
	while (parent[i] != root) {
		int next = parent[i];
		parent[i] = root;
		i = next;
	}
	return root;
}

static int similar(struct ms_rect a, struct ms_rect b, double eps)
{
	double delta = eps * (MS_MIN(a.w, b.w) + MS_MIN(a.h, b.h)) * 0.5;

	return abs(a.x - b.x) <= delta && abs(a.y - b.y) <= delta &&
	       abs(a.x + a.w - b.x - b.w) <= delta &&
	       abs(a.y + a.h - b.y - b.h) <= delta;
}

int vis_group(struct vis_detector *d, int min_neighbors, double eps,
	      int *ngroups)
{
	int n = d->ncand, nclass = 0, k = 0, rc = MS_OK;
	int *parent = NULL, *label = NULL;
	struct xkey *keys = NULL;
	struct group *g = NULL;

	if (min_neighbors <= 0 || n == 0) {
		*ngroups = n;
		return MS_OK;
	}
	parent = ms_mallocarray((size_t)n, sizeof(*parent));
	label = ms_mallocarray((size_t)n, sizeof(*label));
	keys = ms_mallocarray((size_t)n, sizeof(*keys));
	g = ms_calloc((size_t)n, sizeof(*g));
	if (!parent || !label || !keys || !g) {
		rc = MS_ENOMEM;
		goto out_free;
	}
	for (int i = 0; i < n; i++) {
		parent[i] = i;
		keys[i].x = d->cand[i].x;
		keys[i].i = i;
	}
	/* similar windows are at most eps * (w + h) / 2 apart in x: sweep
	 * in x order and only compare within that reach */
	qsort(keys, (size_t)n, sizeof(*keys), by_x);
	for (int a = 0; a < n; a++) {
		struct ms_rect ra = d->cand[keys[a].i];
		double reach = eps * (ra.w + ra.h) * 0.5;

		for (int b = a + 1; b < n && keys[b].x - ra.x <= reach; b++) {
			if (similar(ra, d->cand[keys[b].i], eps)) {
				int r1 = find(parent, keys[a].i);
				int r2 = find(parent, keys[b].i);
				if (r1 != r2)
					parent[MS_MAX(r1, r2)] = MS_MIN(r1, r2);
			}
		}
	}
	/* classes numbered by first member, as cv::partition does */
	for (int i = 0; i < n; i++)
		label[i] = -1;
	for (int i = 0; i < n; i++) {
		int root = find(parent, i);
		struct group *gr;

		if (label[root] < 0)
			label[root] = nclass++;
		gr = &g[label[root]];
		gr->x += d->cand[i].x;
		gr->y += d->cand[i].y;
		gr->w += d->cand[i].w;
		gr->h += d->cand[i].h;
		gr->n++;
	}
	for (int c = 0; c < nclass; c++) {
		float s = 1.f / (float)g[c].n;

		g[c].r.x = (int)lrintf((float)g[c].x * s);
		g[c].r.y = (int)lrintf((float)g[c].y * s);
		g[c].r.w = (int)lrintf((float)g[c].w * s);
		g[c].r.h = (int)lrintf((float)g[c].h * s);
	}
	for (int i = 0; i < nclass; i++) {
		struct ms_rect r1 = g[i].r;
		int n1 = g[i].n, j;

		if (n1 <= min_neighbors)
			continue;
		/* drop a small average inside a larger, stronger one */
		for (j = 0; j < nclass; j++) {
			struct ms_rect r2 = g[j].r;
			int n2 = g[j].n, dx, dy;

			if (j == i || n2 <= min_neighbors)
				continue;
			dx = (int)lrint(r2.w * eps);
			dy = (int)lrint(r2.h * eps);
			if (r1.x >= r2.x - dx && r1.y >= r2.y - dy &&
			    r1.x + r1.w <= r2.x + r2.w + dx &&
			    r1.y + r1.h <= r2.y + r2.h + dy &&
			    (n2 > MS_MAX(3, n1) || n1 < 3))
				break;
		}
		if (j == nclass)
			d->cand[k++] = r1;
	}
	*ngroups = k;
out_free:
	free(parent);
	free(label);
	free(keys);
	free(g);
	return rc;
}
