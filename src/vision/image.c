/* image.c - 8-bit gray images: allocation, file loading, format sniffing,
 * and resampling (resize, crop + resize). The JPEG and PNG decoders live in
 * decode_jpeg.c and decode_png.c; the OpenCV-compatible bilinear used by the
 * detector's pyramid is vis_resize_linear (see vision_internal.h). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "moodsync/vision.h"
#include "vision/vision_internal.h"

int vis_image_init(struct vis_image *img, int w, int h)
{
	if (w <= 0 || h <= 0 || w > VIS_MAX_SIDE || h > VIS_MAX_SIDE ||
	    (uint64_t)w * (uint64_t)h > VIS_MAX_PIXELS)
		return MS_ELIMIT;
	img->px = ms_calloc((size_t)w * (size_t)h, 1);
	if (!img->px)
		return MS_ENOMEM;
	img->w = w;
	img->h = h;
	return MS_OK;
}

void vis_image_release(struct vis_image *img)
{
	if (!img)
		return;
	free(img->px);
	img->px = NULL;
	img->w = img->h = 0;
}

int vis_check_dims(long w, long h, const char *what, char *err, size_t errlen)
{
	if (w <= 0 || h <= 0)
		return ms_errf(err, errlen, MS_EFORMAT,
			       "%s: empty image (%ldx%ld)", what, w, h);
	if (w > VIS_MAX_SIDE || h > VIS_MAX_SIDE ||
	    (uint64_t)w * (uint64_t)h > VIS_MAX_PIXELS)
		return ms_errf(err, errlen, MS_ELIMIT,
			       "%s: image too large (%ldx%ld; limits %d px a "
			       "side, %u megapixels)",
			       what, w, h, VIS_MAX_SIDE, VIS_MAX_PIXELS >> 20);
	return MS_OK;
}

int vis_image_decode(const uint8_t *buf, size_t len, struct vis_image *out,
		     char *err, size_t errlen)
{
	static const uint8_t png_magic[8] = {0x89, 'P',	 'N',  'G',
					     0x0d, 0x0a, 0x1a, 0x0a};

	if (!buf || len == 0)
		return ms_errf(err, errlen, MS_EFORMAT, "empty input");
	if (len > VIS_MAX_FILE)
		return ms_errf(err, errlen, MS_ELIMIT,
			       "encoded image larger than %u bytes",
			       VIS_MAX_FILE);
	if (len >= 3 && buf[0] == 0xff && buf[1] == 0xd8 && buf[2] == 0xff)
		return vis_decode_jpeg(buf, len, out, err, errlen);
	if (len >= 8 && memcmp(buf, png_magic, 8) == 0)
		return vis_decode_png(buf, len, out, err, errlen);
	if (len < 8 && ((buf[0] == 0xff && (len < 2 || buf[1] == 0xd8)) ||
			memcmp(buf, png_magic, len) == 0))
		return ms_errf(err, errlen, MS_EFORMAT,
			       "truncated image header (%zu bytes)", len);
	return ms_errf(err, errlen, MS_EUNSUPPORTED, "not a JPEG or PNG image");
}

int vis_image_load(const char *path, struct vis_image *out, char *err,
		   size_t errlen)
{
	uint8_t *data = NULL;
	size_t len = 0;
	char why[MS_ERRLEN];
	int rc;

	rc = ms_file_read(path, VIS_MAX_FILE, &data, &len, err, errlen);
	if (rc)
		return rc;
	rc = vis_image_decode(data, len, out, why, sizeof(why));
	if (rc)
		ms_errf(err, errlen, rc, "%s: %s", path, why);
	free(data);
	return rc;
}

/* ---- Resampling ------------------------------------------------------- */

static float sample_bilinear(const struct vis_image *img, float x, float y)
{
	int x0, y0, x1, y1;
	float ax, ay;
	const uint8_t *r0, *r1;

	if (x < 0)
		x = 0;
	if (y < 0)
		y = 0;
	if (x > (float)(img->w - 1))
		x = (float)(img->w - 1);
	if (y > (float)(img->h - 1))
		y = (float)(img->h - 1);
	x0 = (int)x;
	y0 = (int)y;
	x1 = MS_MIN(x0 + 1, img->w - 1);
	y1 = MS_MIN(y0 + 1, img->h - 1);
	ax = x - (float)x0;
	ay = y - (float)y0;
	r0 = img->px + (size_t)y0 * (size_t)img->w;
	r1 = img->px + (size_t)y1 * (size_t)img->w;
	return (1 - ay) * ((1 - ax) * r0[x0] + ax * r0[x1]) +
	       ay * ((1 - ax) * r1[x0] + ax * r1[x1]);
}

/* A rotation of the crop about a pivot, in the image's continuous
 * coordinates (pixel i spans [i, i + 1)): a crop point q samples the image
 * at P + R(q - P). The identity when c = 1, s = 0. */
struct rot {
	double c, s;   /* cos and sin of the angle */
	double px, py; /* pivot P */
};

/* Maps output pixel (ox, oy) to the crop point q = (x0 + (ox + 0.5) * sx,
 * y0 + (oy + 0.5) * sy), rotates it by `r` and samples there, pixel
 * centres at +0.5. When a source step exceeds 2 pixels, each output pixel
 * averages a k x k grid of bilinear samples over its footprint (k up to
 * 16), which approximates area averaging without aliasing. Edges repeat. */
static void resample(const struct vis_image *src, double x0, double y0,
		     double sx, double sy, const struct rot *r, int ow, int oh,
		     uint8_t *out)
{
	int kx = sx > 2 ? (int)MS_MIN(ceil(sx), 16.0) : 1;
	int ky = sy > 2 ? (int)MS_MIN(ceil(sy), 16.0) : 1;
	float inv = 1.0f / (float)(kx * ky);
	int turn = r && (r->s != 0 || r->c != 1);

	for (int oy = 0; oy < oh; oy++) {
		for (int ox = 0; ox < ow; ox++) {
			float acc = 0;

			for (int j = 0; j < ky; j++) {
				double qy = y0 + oy * sy + (j + 0.5) * sy / ky;
				for (int i = 0; i < kx; i++) {
					double qx = x0 + ox * sx +
						    (i + 0.5) * sx / kx;
					double fx = qx, fy = qy;

					if (turn) {
						double dx = qx - r->px,
						       dy = qy - r->py;
						fx = r->px + r->c * dx -
						     r->s * dy;
						fy = r->py + r->s * dx +
						     r->c * dy;
					}
					acc += sample_bilinear(
						src, (float)(fx - 0.5),
						(float)(fy - 0.5));
				}
			}
			acc = acc * inv + 0.5f;
			out[(size_t)oy * (size_t)ow + (size_t)ox] =
				(uint8_t)(acc > 255 ? 255
					  : acc < 0 ? 0
						    : acc);
		}
	}
}

int vis_image_resize(const struct vis_image *src, int dw, int dh,
		     struct vis_image *dst)
{
	struct vis_image tmp;
	int rc;

	if (!src || !src->px || src->w <= 0 || src->h <= 0)
		return MS_EINVAL;
	rc = vis_image_init(&tmp, dw, dh);
	if (rc)
		return rc;
	resample(src, 0, 0, (double)src->w / dw, (double)src->h / dh, NULL, dw,
		 dh, tmp.px);
	*dst = tmp;
	return MS_OK;
}

void vis_crop_resize(const struct vis_image *img, struct ms_rect box,
		     float margin, int ow, int oh, uint8_t *out)
{
	vis_crop_resize_rot(img, box, margin, 0, 0, 0, ow, oh, out);
}

void vis_crop_resize_rot(const struct vis_image *img, struct ms_rect box,
			 float margin, double angle, double px, double py,
			 int ow, int oh, uint8_t *out)
{
	double bw = box.w > 0 ? box.w : 1, bh = box.h > 0 ? box.h : 1;
	double x0 = box.x - margin * bw, y0 = box.y - margin * bh;
	double cw = bw * (1 + 2.0 * margin), ch = bh * (1 + 2.0 * margin);
	struct rot r = {1, 0, px, py};

	if (ow <= 0 || oh <= 0 || !out)
		return;
	if (!img || !img->px || img->w <= 0 || img->h <= 0) {
		memset(out, 0, (size_t)ow * (size_t)oh);
		return;
	}
	if (cw < 1)
		cw = 1;
	if (ch < 1)
		ch = 1;
	if (angle != 0 && isfinite(angle) && isfinite(px) && isfinite(py)) {
		r.c = cos(angle);
		r.s = sin(angle);
	}
	resample(img, x0, y0, cw / ow, ch / oh, &r, ow, oh, out);
}

/* Coefficients of OpenCV's bit-exact linear resize along one axis: the
 * source coordinate of destination d is (d + 0.5) * src/dst - 0.5 in
 * double; its fraction becomes an 8-bit fixed-point weight (rounded half to
 * even). Destinations left of the first source sample ([0, *lo)) and right
 * of the last ([*hi, n)) take the edge sample. */
static void linear_coeffs(int src, int dst, int32_t *ofs, int32_t *c, int *lo,
			  int *hi)
{
	double inv = (double)dst / src, scale = 1.0 / inv;

	*lo = 0;
	*hi = dst;
	for (int d = 0; d < dst; d++) {
		double t = scale * ((double)d + 0.5);
		double f = t - 0.5;
		int i = (int)floor(f);

		ofs[d] = 0;
		c[2 * d] = 256;
		c[2 * d + 1] = 0;
		if (i >= 0 && src > 1) {
			if (i < src - 1) {
				int32_t c1 = (int32_t)lrint((f - i) * 256.0);
				ofs[d] = i;
				c[2 * d + 1] = c1;
				c[2 * d] = 256 - c1;
			} else {
				ofs[d] = src - 1;
				*hi = MS_MIN(*hi, d);
			}
		} else {
			*lo = MS_MAX(*lo, d + 1);
		}
	}
}

/* One source row, horizontally: 8.8 fixed point values. */
static void linear_row(const uint8_t *sr, int sw, int dw, const int32_t *xofs,
		       const int32_t *xc, int lo, int hi, int32_t *out)
{
	int x = 0;

	for (; x < lo && x < dw; x++)
		out[x] = sr[0] << 8;
	for (; x < hi; x++) {
		int o = xofs[x];
		out[x] = xc[2 * x] * sr[o] + xc[2 * x + 1] * sr[o + 1];
	}
	for (; x < dw; x++)
		out[x] = sr[dw > 0 ? xofs[dw - 1] : sw - 1] << 8;
}

/* OpenCV's INTER_LINEAR_EXACT for 8-bit images (what detectMultiScale
 * uses for its pyramid), so the detector sees the pixels OpenCV sees:
 * 8-bit weights per axis, rows combined in 16.16 fixed point and rounded
 * once. Scratch: `tab` holds 3 * dw + 3 * dh ints, `rows` 2 * dw ints. */
void vis_resize_linear(const uint8_t *src, int sw, int sh, size_t sstride,
		       uint8_t *dst, int dw, int dh, size_t dstride,
		       int32_t *tab, int32_t *rows)
{
	int32_t *xofs = tab, *xc = tab + dw, *yofs = tab + 3 * dw,
		*yc = tab + 3 * dw + dh;
	int32_t *h0 = rows, *h1 = rows + dw;
	int xlo, xhi, ylo, yhi, have0 = -1, have1 = -1;

	if (sw == dw && sh == dh) {
		for (int y = 0; y < dh; y++)
			memcpy(dst + (size_t)y * dstride,
			       src + (size_t)y * sstride, (size_t)dw);
		return;
	}
	linear_coeffs(sw, dw, xofs, xc, &xlo, &xhi);
	linear_coeffs(sh, dh, yofs, yc, &ylo, &yhi);
	for (int y = 0; y < dh; y++) {
		uint8_t *drow = dst + (size_t)y * dstride;

		if (y < ylo || y >= yhi) {
			/* above the first or below the last source row */
			int r = y < ylo ? 0 : sh - 1;
			if (have0 != r) {
				linear_row(src + (size_t)r * sstride, sw, dw,
					   xofs, xc, xlo, xhi, h0);
				have0 = r;
			}
			for (int x = 0; x < dw; x++)
				drow[x] = (uint8_t)MS_MIN((h0[x] + 128) >> 8,
							  255);
			continue;
		}
		{
			int r0 = yofs[y], r1 = r0 + 1;
			int32_t c0 = yc[2 * y], c1 = yc[2 * y + 1];

			if (have0 != r0) {
				if (have1 == r0) {
					int32_t *t = h0;
					h0 = h1;
					h1 = t;
					have0 = r0;
					have1 = -1;
				} else {
					linear_row(src + (size_t)r0 * sstride,
						   sw, dw, xofs, xc, xlo, xhi,
						   h0);
					have0 = r0;
				}
			}
			if (have1 != r1) {
				linear_row(src + (size_t)r1 * sstride, sw, dw,
					   xofs, xc, xlo, xhi, h1);
				have1 = r1;
			}
			for (int x = 0; x < dw; x++) {
				uint32_t v = (uint32_t)h0[x] * (uint32_t)c0 +
					     (uint32_t)h1[x] * (uint32_t)c1 +
					     32768u;
				v >>= 16;
				drow[x] = (uint8_t)(v > 255 ? 255 : v);
			}
		}
	}
}
