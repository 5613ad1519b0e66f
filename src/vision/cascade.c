/* cascade.c - loads OpenCV's Haar cascade XML (the format written by
 * opencv_traincascade and shipped in opencv-data) into struct vis_cascade,
 * checking every count, index and rectangle so the detector can trust it.
 *
 * Format (children of the one element under <opencv_storage>):
 *   stageType BOOST | featureType HAAR | width, height: window pixels
 *   featureParams/maxCatCount 0 | stageNum: number of stages (optional)
 *   stages/_ : maxWeakCount (optional, = number of weak classifiers),
 *              stageThreshold, weakClassifiers/_ :
 *                internalNodes "left right featureIdx threshold" * n
 *                  (left/right > 0: node index in this tree, <= 0: leaf -v)
 *                leafValues: n + 1 numbers
 *   features/_ : rects/_ "x y w h weight" (2 or 3 of them), tilted 0|1
 * A window passes a stage when the sum of its trees' leaves is >= the
 * stage threshold; a tree goes left when the feature value (weighted rect
 * sums / (window area * stddev)) is < the node threshold. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vision/vision_internal.h"

#define MAX_WIN 512 /* window side, pixels */
#define MAX_STAGES 1000
#define MAX_TREES 200000    /* weak classifiers in all */
#define MAX_TREE_NODES 1024 /* internal nodes in one tree */
#define MAX_NODES 1000000
#define MAX_FEATURES 1000000

struct loader {
	const struct vis_xml *doc;
	struct vis_cascade *c;
	int cap_stages, cap_trees, cap_nodes, cap_leaves;
	char *err;
	size_t errlen;
};

static const struct vis_xml_node *node_at(const struct loader *l, int i)
{
	return &l->doc->nodes[i];
}

static int name_is(const struct vis_xml_node *n, const char *s)
{
	return n->name_len == strlen(s) && memcmp(n->name, s, n->name_len) == 0;
}

static int text_is(const struct vis_xml_node *n, const char *s)
{
	return n->text && n->text_len == strlen(s) &&
	       memcmp(n->text, s, n->text_len) == 0;
}

/* A cursor over the whitespace-separated numbers of an element's text. */
struct nums {
	const char *p, *end;
};

static void nums_init(struct nums *it, const struct vis_xml_node *n)
{
	it->p = n->text;
	it->end = n->text ? n->text + n->text_len : NULL;
}

/* 1 and *v on a number, 0 at the end, -1 on a bad token. */
static int nums_next(struct nums *it, double *v)
{
	char tok[64];
	size_t k = 0;

	while (it->p < it->end && strchr(" \t\r\n", *it->p))
		it->p++;
	if (it->p >= it->end)
		return 0;
	while (it->p < it->end && !strchr(" \t\r\n", *it->p)) {
		if (k + 1 >= sizeof(tok))
			return -1;
		tok[k++] = *it->p++;
	}
	tok[k] = '\0';
	return ms_parse_double(tok, -1e30, 1e30, v) == MS_OK ? 1 : -1;
}

static int count_nums(const struct vis_xml_node *n)
{
	struct nums it;
	double v;
	int k = 0, r;

	nums_init(&it, n);
	while ((r = nums_next(&it, &v)) == 1)
		k++;
	return r < 0 ? -1 : k;
}

static int is_int(double v)
{
	return v == floor(v) && fabs(v) < 1e9;
}

/* Reads child `name` of `parent` as one integer in [min, max]. */
static int get_int(struct loader *l, int parent, const char *name, int min,
		   int max, int *out)
{
	int i = vis_xml_child(l->doc, parent, name);
	struct nums it;
	double v, extra;

	if (i < 0)
		return ms_errf(l->err, l->errlen, MS_EFORMAT,
			       "cascade: missing <%s>", name);
	nums_init(&it, node_at(l, i));
	if (nums_next(&it, &v) != 1 || nums_next(&it, &extra) != 0 ||
	    !is_int(v))
		return ms_errf(l->err, l->errlen, MS_EFORMAT,
			       "cascade: <%s> is not an integer", name);
	if (v < min || v > max)
		return ms_errf(l->err, l->errlen, MS_ELIMIT,
			       "cascade: <%s> %.0f out of range [%d, %d]", name,
			       v, min, max);
	*out = (int)v;
	return MS_OK;
}

/* Grows *arr (elements of `size` bytes, capacity *cap) to hold `need`. */
static int grow(void **arr, int *cap, int need, size_t size)
{
	int ncap;
	void *p;

	if (need <= *cap)
		return MS_OK;
	ncap = *cap ? *cap : 64;
	while (ncap < need)
		ncap *= 2;
	p = realloc(*arr, (size_t)ncap * size);
	if (!p)
		return MS_ENOMEM;
	*arr = p;
	*cap = ncap;
	return MS_OK;
}

static int load_tree(struct loader *l, int wi, int si)
{
	struct vis_cascade *c = l->c;
	int in = vis_xml_child(l->doc, wi, "internalNodes");
	int lv = vis_xml_child(l->doc, wi, "leafValues");
	int nn, nl;
	struct vis_tree *t;
	struct nums it;
	double v[4];

	if (in < 0 || lv < 0)
		return ms_errf(l->err, l->errlen, MS_EFORMAT,
			       "cascade: stage %d: weak classifier without "
			       "internalNodes/leafValues",
			       si);
	nn = count_nums(node_at(l, in));
	nl = count_nums(node_at(l, lv));
	if (nn < 0 || nl < 0)
		return ms_errf(l->err, l->errlen, MS_EFORMAT,
			       "cascade: stage %d: bad number in a tree", si);
	if (nn == 0 || nn % 4 != 0 || nn / 4 > MAX_TREE_NODES)
		return ms_errf(l->err, l->errlen, MS_EFORMAT,
			       "cascade: stage %d: internalNodes holds %d "
			       "numbers (want 4 per node, 1 to %d nodes)",
			       si, nn, MAX_TREE_NODES);
	nn /= 4;
	if (nl != nn + 1)
		return ms_errf(l->err, l->errlen, MS_EFORMAT,
			       "cascade: stage %d: %d leaves for %d nodes "
			       "(want %d)",
			       si, nl, nn, nn + 1);
	if (c->ntrees >= MAX_TREES || c->nnodes + nn > MAX_NODES)
		return ms_errf(l->err, l->errlen, MS_ELIMIT,
			       "cascade: too many trees or nodes");
	if (grow((void **)&c->trees, &l->cap_trees, c->ntrees + 1,
		 sizeof(*c->trees)) ||
	    grow((void **)&c->nodes, &l->cap_nodes, c->nnodes + nn,
		 sizeof(*c->nodes)) ||
	    grow((void **)&c->leaves, &l->cap_leaves, c->nleaves + nl,
		 sizeof(*c->leaves)))
		return ms_errf(l->err, l->errlen, MS_ENOMEM, "out of memory");
	t = &c->trees[c->ntrees++];
	t->first_node = c->nnodes;
	t->nnodes = nn;
	t->first_leaf = c->nleaves;
	nums_init(&it, node_at(l, in));
	for (int k = 0; k < nn; k++) {
		struct vis_node *nd = &c->nodes[c->nnodes++];

		for (int j = 0; j < 4; j++)
			nums_next(&it, &v[j]);
		if (!is_int(v[0]) || !is_int(v[1]) || !is_int(v[2]))
			return ms_errf(l->err, l->errlen, MS_EFORMAT,
				       "cascade: stage %d: non-integer node "
				       "index",
				       si);
		/* children must point forward (no cycles) and inside */
		for (int j = 0; j < 2; j++) {
			double ch = v[j];
			if ((ch > 0 && (ch <= k || ch >= nn)) ||
			    (ch <= 0 && -ch > nn))
				return ms_errf(l->err, l->errlen, MS_EFORMAT,
					       "cascade: stage %d: node %d "
					       "child %.0f out of range",
					       si, k, ch);
		}
		nd->left = (int)v[0];
		nd->right = (int)v[1];
		nd->feature = (int)v[2];
		nd->threshold = (float)v[3];
	}
	nums_init(&it, node_at(l, lv));
	for (int k = 0; k < nl; k++) {
		nums_next(&it, &v[0]);
		c->leaves[c->nleaves++] = (float)v[0];
	}
	if (nn > c->max_nodes)
		c->max_nodes = nn;
	return MS_OK;
}

static int load_stages(struct loader *l, int root)
{
	struct vis_cascade *c = l->c;
	int stages = vis_xml_child(l->doc, root, "stages");
	int declared = -1, rc;

	if (stages < 0)
		return ms_errf(l->err, l->errlen, MS_EFORMAT,
			       "cascade: missing <stages>");
	if (vis_xml_child(l->doc, root, "stageNum") >= 0) {
		rc = get_int(l, root, "stageNum", 1, MAX_STAGES, &declared);
		if (rc)
			return rc;
	}
	for (int si = node_at(l, stages)->first_child; si >= 0;
	     si = node_at(l, si)->next) {
		int wcs = vis_xml_child(l->doc, si, "weakClassifiers");
		int th = vis_xml_child(l->doc, si, "stageThreshold");
		int idx = c->nstages, mwc = -1;
		struct vis_stage *st;
		struct nums it;
		double v, extra;

		if (idx >= MAX_STAGES)
			return ms_errf(l->err, l->errlen, MS_ELIMIT,
				       "cascade: more than %d stages",
				       MAX_STAGES);
		if (wcs < 0 || th < 0)
			return ms_errf(l->err, l->errlen, MS_EFORMAT,
				       "cascade: stage %d: missing "
				       "weakClassifiers or stageThreshold",
				       idx);
		nums_init(&it, node_at(l, th));
		if (nums_next(&it, &v) != 1 || nums_next(&it, &extra) != 0)
			return ms_errf(l->err, l->errlen, MS_EFORMAT,
				       "cascade: stage %d: bad stageThreshold",
				       idx);
		if (grow((void **)&c->stages, &l->cap_stages, idx + 1,
			 sizeof(*c->stages)))
			return ms_errf(l->err, l->errlen, MS_ENOMEM,
				       "out of memory");
		st = &c->stages[idx];
		st->threshold = (float)v - 1e-5f;
		st->first_tree = c->ntrees;
		for (int wi = node_at(l, wcs)->first_child; wi >= 0;
		     wi = node_at(l, wi)->next) {
			rc = load_tree(l, wi, idx);
			if (rc)
				return rc;
		}
		st->ntrees = c->ntrees - st->first_tree;
		if (st->ntrees == 0)
			return ms_errf(l->err, l->errlen, MS_EFORMAT,
				       "cascade: stage %d has no weak "
				       "classifiers",
				       idx);
		if (vis_xml_child(l->doc, si, "maxWeakCount") >= 0) {
			rc = get_int(l, si, "maxWeakCount", 1, MAX_TREES, &mwc);
			if (rc)
				return rc;
			if (mwc != st->ntrees)
				return ms_errf(
					l->err, l->errlen, MS_EFORMAT,
					"cascade: stage %d: maxWeakCount "
					"%d but %d weak classifiers",
					idx, mwc, st->ntrees);
		}
		c->nstages++;
	}
	if (c->nstages == 0)
		return ms_errf(l->err, l->errlen, MS_EFORMAT,
			       "cascade: no stages");
	if (declared >= 0 && declared != c->nstages)
		return ms_errf(l->err, l->errlen, MS_EFORMAT,
			       "cascade: stageNum %d but %d stages", declared,
			       c->nstages);
	return MS_OK;
}

static int load_feature(struct loader *l, int fi, struct vis_feature *f)
{
	const struct vis_cascade *c = l->c;
	int rects = vis_xml_child(l->doc, fi, "rects");
	int idx = (int)(f - c->features), rc;

	memset(f, 0, sizeof(*f));
	if (rects < 0)
		return ms_errf(l->err, l->errlen, MS_EFORMAT,
			       "cascade: feature %d without <rects>", idx);
	if (vis_xml_child(l->doc, fi, "tilted") >= 0) {
		rc = get_int(l, fi, "tilted", 0, 1, &f->tilted);
		if (rc)
			return rc;
	}
	for (int ri = node_at(l, rects)->first_child; ri >= 0;
	     ri = node_at(l, ri)->next) {
		struct nums it;
		double v[5], extra;
		int x, y, w, h, inside;

		if (f->nrects >= VIS_RECTS)
			return ms_errf(l->err, l->errlen, MS_EFORMAT,
				       "cascade: feature %d has more than %d "
				       "rects",
				       idx, VIS_RECTS);
		nums_init(&it, node_at(l, ri));
		for (int j = 0; j < 5; j++)
			if (nums_next(&it, &v[j]) != 1)
				return ms_errf(l->err, l->errlen, MS_EFORMAT,
					       "cascade: feature %d: rect "
					       "needs 5 numbers",
					       idx);
		if (nums_next(&it, &extra) != 0 || !is_int(v[0]) ||
		    !is_int(v[1]) || !is_int(v[2]) || !is_int(v[3]) ||
		    fabs(v[4]) > 1e6)
			return ms_errf(l->err, l->errlen, MS_EFORMAT,
				       "cascade: feature %d: bad rect", idx);
		x = (int)v[0], y = (int)v[1], w = (int)v[2], h = (int)v[3];
		if (f->tilted)
			inside = w > 0 && h > 0 && y >= 0 && x - h >= 0 &&
				 (long)x + w <= c->win_w &&
				 (long)y + w + h <= c->win_h;
		else
			inside = w > 0 && h > 0 && x >= 0 && y >= 0 &&
				 (long)x + w <= c->win_w &&
				 (long)y + h <= c->win_h;
		if (!inside)
			return ms_errf(l->err, l->errlen, MS_EFORMAT,
				       "cascade: feature %d: rect %d %d %d %d "
				       "outside the %dx%d window",
				       idx, x, y, w, h, c->win_w, c->win_h);
		f->r[f->nrects].x = x;
		f->r[f->nrects].y = y;
		f->r[f->nrects].w = w;
		f->r[f->nrects].h = h;
		f->r[f->nrects].weight = (float)v[4];
		f->nrects++;
	}
	if (f->nrects < 2)
		return ms_errf(l->err, l->errlen, MS_EFORMAT,
			       "cascade: feature %d has fewer than 2 rects",
			       idx);
	return MS_OK;
}

static int load_features(struct loader *l, int root)
{
	struct vis_cascade *c = l->c;
	int fs = vis_xml_child(l->doc, root, "features");
	int n, rc, k = 0;

	if (fs < 0)
		return ms_errf(l->err, l->errlen, MS_EFORMAT,
			       "cascade: missing <features>");
	n = node_at(l, fs)->nchildren;
	if (n == 0 || n > MAX_FEATURES)
		return ms_errf(l->err, l->errlen, n ? MS_ELIMIT : MS_EFORMAT,
			       "cascade: %d features (want 1 to %d)", n,
			       MAX_FEATURES);
	c->features = ms_calloc((size_t)n, sizeof(*c->features));
	if (!c->features)
		return ms_errf(l->err, l->errlen, MS_ENOMEM, "out of memory");
	c->nfeatures = n;
	c->int_weights = 1;
	for (int fi = node_at(l, fs)->first_child; fi >= 0;
	     fi = node_at(l, fi)->next, k++) {
		struct vis_feature *f = &c->features[k];

		rc = load_feature(l, fi, f);
		if (rc)
			return rc;
		c->has_tilted |= f->tilted;
		for (int j = 0; j < f->nrects; j++) {
			float w = f->r[j].weight;
			if (w != floorf(w) || fabsf(w) > 64)
				c->int_weights = 0;
		}
	}
	for (int i = 0; i < c->nnodes; i++)
		if (c->nodes[i].feature < 0 || c->nodes[i].feature >= n)
			return ms_errf(l->err, l->errlen, MS_EFORMAT,
				       "cascade: node uses feature %d of %d",
				       c->nodes[i].feature, n);
	return MS_OK;
}

int vis_cascade_parse(const char *xml, size_t len, struct vis_cascade **out,
		      char *err, size_t errlen)
{
	struct vis_xml doc = {NULL, 0};
	struct loader l;
	struct vis_cascade *c;
	int root, cat = 0, rc;

	memset(&l, 0, sizeof(l));
	l.err = err;
	l.errlen = errlen;
	if (!xml)
		return ms_errf(err, errlen, MS_EINVAL, "cascade: no input");
	if (len > VIS_MAX_FILE)
		return ms_errf(err, errlen, MS_ELIMIT,
			       "cascade: file larger than %u bytes",
			       VIS_MAX_FILE);
	c = calloc(1, sizeof(*c));
	if (!c)
		return ms_errf(err, errlen, MS_ENOMEM, "out of memory");
	l.c = c;
	rc = vis_xml_parse(xml, len, &doc, err, errlen);
	if (rc)
		goto out_free;
	l.doc = &doc;
	if (!name_is(&doc.nodes[0], "opencv_storage") ||
	    doc.nodes[0].first_child < 0) {
		rc = ms_errf(err, errlen, MS_EFORMAT,
			     "cascade: no <opencv_storage> with a cascade");
		goto out_free;
	}
	root = doc.nodes[0].first_child;
	if (vis_xml_child(&doc, root, "stageType") < 0) {
		rc = ms_errf(err, errlen,
			     vis_xml_child(&doc, root, "stages") >= 0
				     ? MS_EUNSUPPORTED
				     : MS_EFORMAT,
			     "cascade: no <stageType> (old-format "
			     "opencv-haar-classifier files are not supported)");
		goto out_free;
	}
	if (!text_is(node_at(&l, vis_xml_child(&doc, root, "stageType")),
		     "BOOST")) {
		rc = ms_errf(err, errlen, MS_EUNSUPPORTED,
			     "cascade: stageType is not BOOST");
		goto out_free;
	}
	if (vis_xml_child(&doc, root, "featureType") < 0 ||
	    !text_is(node_at(&l, vis_xml_child(&doc, root, "featureType")),
		     "HAAR")) {
		rc = ms_errf(err, errlen, MS_EUNSUPPORTED,
			     "cascade: featureType is not HAAR (LBP and HOG "
			     "cascades are not supported)");
		goto out_free;
	}
	rc = get_int(&l, root, "width", 1, MAX_WIN, &c->win_w);
	if (!rc)
		rc = get_int(&l, root, "height", 1, MAX_WIN, &c->win_h);
	if (rc)
		goto out_free;
	if (c->win_w < 3 || c->win_h < 3) {
		rc = ms_errf(err, errlen, MS_EFORMAT,
			     "cascade: window %dx%d too small", c->win_w,
			     c->win_h);
		goto out_free;
	}
	{
		int fp = vis_xml_child(&doc, root, "featureParams");
		if (fp >= 0 && vis_xml_child(&doc, fp, "maxCatCount") >= 0) {
			rc = get_int(&l, fp, "maxCatCount", 0, 1 << 20, &cat);
			if (rc)
				goto out_free;
		}
		if (cat != 0) {
			rc = ms_errf(err, errlen, MS_EUNSUPPORTED,
				     "cascade: categorical features "
				     "(maxCatCount %d) are not supported",
				     cat);
			goto out_free;
		}
	}
	rc = load_stages(&l, root);
	if (!rc)
		rc = load_features(&l, root);
	if (rc)
		goto out_free;
	vis_xml_release(&doc);
	*out = c;
	return MS_OK;
out_free:
	vis_xml_release(&doc);
	vis_cascade_free(c);
	return rc;
}

int vis_cascade_load(const char *path, struct vis_cascade **out, char *err,
		     size_t errlen)
{
	uint8_t *data = NULL;
	size_t len = 0;
	char why[MS_ERRLEN];
	int rc;

	rc = ms_file_read(path, VIS_MAX_FILE, &data, &len, err, errlen);
	if (rc)
		return rc;
	rc = vis_cascade_parse((const char *)data, len, out, why, sizeof(why));
	if (rc)
		ms_errf(err, errlen, rc, "%s: %s", path, why);
	free(data);
	return rc;
}

void vis_cascade_free(struct vis_cascade *c)
{
	if (!c)
		return;
	free(c->stages);
	free(c->trees);
	free(c->nodes);
	free(c->leaves);
	free(c->features);
	free(c);
}

void vis_cascade_window(const struct vis_cascade *c, int *w, int *h)
{
	*w = c->win_w;
	*h = c->win_h;
}
