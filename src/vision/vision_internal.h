/* vision_internal.h - what the files of src/vision share and nobody else
 * sees: the decoders behind vis_image_decode, the OpenCV-compatible
 * bilinear used by the pyramid, the in-memory cascade, and the tiny XML
 * reader the cascade loader stands on. */
#ifndef MOODSYNC_VISION_INTERNAL_H
#define MOODSYNC_VISION_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "moodsync/vision.h"

/* MS_EFORMAT for empty, MS_ELIMIT past VIS_MAX_SIDE / VIS_MAX_PIXELS. */
int vis_check_dims(long w, long h, const char *what, char *err, size_t errlen);
int vis_decode_jpeg(const uint8_t *buf, size_t len, struct vis_image *out,
		    char *err, size_t errlen);
int vis_decode_png(const uint8_t *buf, size_t len, struct vis_image *out,
		   char *err, size_t errlen);

void vis_resize_linear(const uint8_t *src, int sw, int sh, size_t sstride,
		       uint8_t *dst, int dw, int dh, size_t dstride,
		       int32_t *tab, int32_t *rows);

/* vis_integral with caller scratch of 4 * (w + 1) entries (tilted only). */
void vis_integral_scratch(const uint8_t *px, int w, int h, size_t stride_px,
			  uint32_t *sum, uint32_t *sqsum, uint32_t *tilted,
			  size_t stride, uint32_t *scratch);

/* ---- The loaded cascade (immutable after vis_cascade_parse) ----------- */

#define VIS_RECTS 3 /* rectangles per Haar feature, at most */

struct vis_feature {
	struct {
		int x, y, w, h; /* window pixels; tilted: 45-degree rect */
		float weight;	/* as written in the XML; 0 = unused */
	} r[VIS_RECTS];
	int nrects; /* 2 or 3 */
	int tilted; /* 1: rects are rotated by 45 degrees */
};

struct vis_node {
	int feature;	 /* index into features */
	float threshold; /* compare the normalised feature value with it */
	int left, right; /* > 0: node of the same tree; <= 0: leaf -v */
};

struct vis_tree {
	int first_node; /* into nodes */
	int nnodes;	/* >= 1 */
	int first_leaf; /* into leaves; the tree has nnodes + 1 leaves */
};

struct vis_stage {
	int first_tree, ntrees;
	float threshold; /* XML stageThreshold - 1e-5 (as OpenCV) */
};

struct vis_cascade {
	int win_w, win_h; /* detection window, pixels */
	int nstages, ntrees, nnodes, nleaves, nfeatures;
	int max_nodes;	 /* most nodes in one tree (1: all stumps) */
	int has_tilted;	 /* some feature is tilted */
	int int_weights; /* every weight is a small integer */
	struct vis_stage *stages;
	struct vis_tree *trees;
	struct vis_node *nodes;
	float *leaves;
	struct vis_feature *features;
};

/* ---- Minimal XML -------------------------------------------------------
 * Enough XML for OpenCV's FileStorage output: a declaration, comments,
 * elements with attributes (ignored), character data. No DTDs, no CDATA,
 * no entities beyond leaving them verbatim. Every node points into the
 * caller's buffer, which must outlive the document. */

#define VIS_XML_MAX_DEPTH 32
#define VIS_XML_MAX_NODES (4u << 20)

struct vis_xml_node {
	const char *name; /* not terminated; name_len bytes */
	size_t name_len;
	const char *text; /* character data of a leaf element, trimmed */
	size_t text_len;
	int first_child; /* index, -1 when none */
	int next;	 /* next sibling, -1 when none */
	int nchildren;
};

struct vis_xml {
	struct vis_xml_node *nodes; /* nodes[0] is the root element */
	int n;
};

int vis_xml_parse(const char *buf, size_t len, struct vis_xml *doc, char *err,
		  size_t errlen);
void vis_xml_release(struct vis_xml *doc);
/* First child of `parent` named `name`, or -1. */
int vis_xml_child(const struct vis_xml *doc, int parent, const char *name);

#endif
