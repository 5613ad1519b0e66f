/* vision.h - images and faces: decode JPEG/PNG to 8-bit gray, resize and
 * crop, and a Viola-Jones detector that runs OpenCV's Haar cascade XML.
 * Depends on common only; knows nothing of HTTP, JSON or SQLite.
 *
 * Thread-safety: a loaded struct vis_cascade is immutable and may be shared
 * by any number of threads; each thread owns its struct vis_detector (the
 * scratch: integral images, pyramid buffers). */
#ifndef MOODSYNC_VISION_H
#define MOODSYNC_VISION_H

#include <stddef.h>
#include <stdint.h>

#include "moodsync/common.h"

/* ---- Images ---------------------------------------------------------- */

/* Hard caps on decoded input. Anything over them is MS_ELIMIT. */
#define VIS_MAX_SIDE 16384	   /* pixels, either side */
#define VIS_MAX_PIXELS (64u << 20) /* 64 megapixels */
#define VIS_MAX_FILE (64u << 20)   /* bytes of encoded file */

/* An 8-bit grayscale image, row-major, top row first. Owns px. */
struct vis_image {
	int w, h;    /* pixels */
	uint8_t *px; /* w*h bytes */
};

/* Allocates a w x h image (zeroed). MS_ELIMIT past the caps. */
int vis_image_init(struct vis_image *img, int w, int h);
void vis_image_release(struct vis_image *img);

/* Decodes a JPEG or PNG held in memory into gray. On failure returns
 * MS_EUNSUPPORTED (not JPEG/PNG), MS_EFORMAT (truncated or corrupt) or
 * MS_ELIMIT (over the caps), with a one-line reason in err; *out is
 * written only on success. Thread-safe. */
int vis_image_decode(const uint8_t *buf, size_t len, struct vis_image *out,
		     char *err, size_t errlen);
/* Reads and decodes a file (at most VIS_MAX_FILE bytes). */
int vis_image_load(const char *path, struct vis_image *out, char *err,
		   size_t errlen);

/* Bilinear resize (area-averaging when shrinking by more than 2x) into a
 * new image of dw x dh. */
int vis_image_resize(const struct vis_image *src, int dw, int dh,
		     struct vis_image *dst);

/* Crops `box` grown by `margin` (a fraction of its size on every side,
 * may be negative), clamped to the image with edge pixels repeated, and
 * resizes the crop to ow x oh into `out` (ow*oh bytes, caller-owned). */
void vis_crop_resize(const struct vis_image *img, struct ms_rect box,
		     float margin, int ow, int oh, uint8_t *out);

/* vis_crop_resize of the crop turned by `angle` radians about the point
 * (px, py) of the image: the crop point q samples the image at
 * P + R(angle) (q - P), in continuous coordinates (pixel i spans [i, i+1),
 * y down). With the angle of the line between the two eyes and P their
 * midpoint, a tilted face comes out upright. A non-finite angle or pivot
 * means no turn. Same bounds and edge rule as vis_crop_resize. */
void vis_crop_resize_rot(const struct vis_image *img, struct ms_rect box,
			 float margin, double angle, double px, double py,
			 int ow, int oh, uint8_t *out);

/* ---- Haar cascade ---------------------------------------------------- */

struct vis_cascade;

/* Loads an OpenCV cascade XML (the "new" format written by
 * opencv_traincascade, e.g. haarcascade_frontalface_default.xml). Rejects
 * malformed or hostile files with MS_EFORMAT/MS_ELIMIT and a reason. */
int vis_cascade_load(const char *path, struct vis_cascade **out, char *err,
		     size_t errlen);
int vis_cascade_parse(const char *xml, size_t len, struct vis_cascade **out,
		      char *err, size_t errlen);
void vis_cascade_free(struct vis_cascade *c);
/* The detection window of the cascade, in pixels (24x24 for frontalface). */
void vis_cascade_window(const struct vis_cascade *c, int *w, int *h);

struct vis_detect_params {
	double scale;	   /* pyramid step, > 1 (default 1.1) */
	int min_neighbors; /* grouping threshold (default 5) */
	int min_size;	   /* smallest face side in pixels (default 30) */
	int max_size;	   /* largest, 0 = the whole image */
};

void vis_detect_params_default(struct vis_detect_params *p);

struct vis_detector;

/* Per-thread scratch bound to one cascade (borrowed; must outlive it). */
struct vis_detector *vis_detector_new(const struct vis_cascade *c);
void vis_detector_free(struct vis_detector *d);

/* Finds faces in `img`. Writes up to `max` boxes into `faces` (largest
 * first) and their total count into *n. Returns MS_OK or MS_ENOMEM. */
int vis_detect(struct vis_detector *d, const struct vis_image *img,
	       const struct vis_detect_params *p, struct ms_rect *faces,
	       int max, int *n);

/* ---- Eyes inside a face box ------------------------------------------ */

/* Two eye centres in image pixels (continuous coordinates), `left` the one
 * on the image's left (the person's right eye). */
struct vis_eyes {
	float lx, ly, rx, ry;
};

struct vis_eye_finder;

/* Per-thread scratch for finding eyes with an eye cascade (e.g. OpenCV's
 * haarcascade_eye.xml; borrowed, must outlive the finder). NULL when out
 * of memory or `c` is NULL. */
struct vis_eye_finder *vis_eye_finder_new(const struct vis_cascade *c);
void vis_eye_finder_free(struct vis_eye_finder *f);

/* Looks for the two eyes of the face in `face` (a detector box of `img`):
 * the upper part of the box is resampled to a fixed scale and searched for
 * eyes of plausible size; a pair is kept only when it is the one plausible
 * pair (one eye each side of the box centre, separation 0.25-0.65 of the
 * box side, similar sizes, line at most VIS_EYES_MAX_DEG from level).
 * *found is 1 with *eyes set, or 0 (eyes untouched) when no such pair is
 * sure, including tiny or out-of-image boxes. MS_OK, MS_ENOMEM. */
#define VIS_EYES_MAX_DEG 30
int vis_eyes_find(struct vis_eye_finder *f, const struct vis_image *img,
		  struct ms_rect face, struct vis_eyes *eyes, int *found);
/* The angle of the eye line in radians, positive when the right-hand eye
 * is lower (the face turned clockwise on screen). */
double vis_eyes_angle(const struct vis_eyes *e);

/* ---- Lower-level pieces, exposed for tests, benchmarks and scoring ---- */

/* Integral images of a w x h gray image (rows `stride_px` bytes apart)
 * into (w+1) x (h+1) tables with rows `stride` entries apart: sum(X,Y) of
 * pixels x<X, y<Y; sqsum of their squares; tilted (may be NULL) the
 * 45-degree sums OpenCV defines, sum over y<Y, |x-X+1| <= Y-y-1. Entries
 * wrap modulo 2^32 (differences of nearby entries are exact). MS_OK or
 * MS_ENOMEM (scratch for the tilted table). */
int vis_integral(const uint8_t *px, int w, int h, size_t stride_px,
		 uint32_t *sum, uint32_t *sqsum, uint32_t *tilted,
		 size_t stride);

/* Runs the cascade on one window whose top-left is (x, y) of `img`,
 * unscaled. *stages gets the number of stages passed (the cascade's stage
 * count means accepted) or -1 when the window is too flat (OpenCV's
 * variance check: standard deviation <= 10 gray levels); *stage_sum (may be
 * NULL) the leaf sum of the last stage evaluated. MS_EINVAL when the window
 * does not fit, MS_ENOMEM. */
int vis_cascade_eval(const struct vis_cascade *c, const struct vis_image *img,
		     int x, int y, int *stages, double *stage_sum);
int vis_cascade_nstages(const struct vis_cascade *c);

/* Greedy one-to-one matching of detections to ground truth: all pairs with
 * IoU >= min_iou, best IoU first, each box used once. Returns the number
 * of matches; matched_gt (may be NULL, ngt ints) gets 1 for matched truth
 * boxes; MS_ENOMEM. The rule `moodsync eval-faces` and
 * bench/opencv_detect.cpp share. */
int vis_match_greedy(const struct ms_rect *gt, int ngt,
		     const struct ms_rect *det, int ndet, double min_iou,
		     int *matched_gt);

#endif
