/* decode_png.c - PNG (libpng) from memory to 8-bit gray. libpng reports
 * errors by calling our error function, which records the message and
 * longjmps out; reads past the end of the buffer are a "truncated" error.
 * Palette, 16-bit, alpha and color are all reduced to 8-bit luma (BT.601
 * weights, like the JPEG path). */
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "vision/vision_internal.h"

struct png_src {
	const uint8_t *buf;
	size_t len, pos;
	int truncated;
	char msg[160];
};

static void on_read(png_structp png, png_bytep data, size_t n)
{
	struct png_src *s = png_get_io_ptr(png);

	if (n > s->len - s->pos) {
		s->truncated = 1;
		png_error(png, "unexpected end of data");
	}
	memcpy(data, s->buf + s->pos, n);
	s->pos += n;
}

static void on_error(png_structp png, png_const_charp msg)
{
	struct png_src *s = png_get_error_ptr(png);

	if (s->msg[0] == '\0')
		snprintf(s->msg, sizeof(s->msg), "%s", msg);
	png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

int vis_decode_png(const uint8_t *buf, size_t len, struct vis_image *out,
		   char *err, size_t errlen)
{
	struct png_src src = {buf, len, 0, 0, ""};
	png_structp png;
	png_infop info = NULL;
	uint8_t *volatile px = NULL;
	png_bytep *volatile rows = NULL;
	volatile int rc = MS_OK;
	png_uint_32 w, h;
	int depth, color, interlace;

	/* the header's size first, before libpng allocates for it */
	if (len < 24 || memcmp(buf + 12, "IHDR", 4) != 0)
		return ms_errf(err, errlen, MS_EFORMAT,
			       len < 24 ? "truncated PNG header"
					: "corrupt PNG: no IHDR chunk first");
	w = (png_uint_32)buf[16] << 24 | (png_uint_32)buf[17] << 16 |
	    (png_uint_32)buf[18] << 8 | buf[19];
	h = (png_uint_32)buf[20] << 24 | (png_uint_32)buf[21] << 16 |
	    (png_uint_32)buf[22] << 8 | buf[23];
	if (w <= 0x7fffffffu && h <= 0x7fffffffu) {
		rc = vis_check_dims((long)w, (long)h, "PNG", err, errlen);
		if (rc)
			return rc;
	}
	png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, on_error,
				     on_warning);
	if (!png)
		return ms_errf(err, errlen, MS_ENOMEM, "out of memory");
	info = png_create_info_struct(png);
	if (!info) {
		rc = ms_errf(err, errlen, MS_ENOMEM, "out of memory");
		goto out_destroy;
	}
	if (setjmp(png_jmpbuf(png))) {
		rc = ms_errf(err, errlen, MS_EFORMAT, "%s PNG: %s",
			     src.truncated ? "truncated" : "corrupt", src.msg);
		goto out_destroy;
	}
	png_set_read_fn(png, &src, on_read);
	/* libpng's own caps: it refuses larger headers itself */
	png_set_user_limits(png, VIS_MAX_SIDE, VIS_MAX_SIDE);
	png_set_chunk_malloc_max(png, 8u << 20);
	png_read_info(png, info);
	png_get_IHDR(png, info, &w, &h, &depth, &color, &interlace, NULL, NULL);
	rc = vis_check_dims((long)w, (long)h, "PNG", err, errlen);
	if (rc)
		goto out_destroy;
	png_set_expand(png);
	png_set_strip_16(png);
	png_set_strip_alpha(png);
	if (color & PNG_COLOR_MASK_COLOR)
		png_set_rgb_to_gray_fixed(png, 1, 29900, 58700);
	png_set_interlace_handling(png);
	png_read_update_info(png, info);
	if (png_get_rowbytes(png, info) != (size_t)w ||
	    png_get_channels(png, info) != 1) {
		rc = ms_errf(err, errlen, MS_EUNSUPPORTED,
			     "PNG did not reduce to one 8-bit channel");
		goto out_destroy;
	}
	px = malloc((size_t)w * (size_t)h);
	rows = ms_mallocarray(h, sizeof(*rows));
	if (!px || !rows) {
		rc = ms_errf(err, errlen, MS_ENOMEM, "out of memory (%ux%u)",
			     (unsigned)w, (unsigned)h);
		goto out_destroy;
	}
	for (png_uint_32 y = 0; y < h; y++)
		rows[y] = px + (size_t)y * w;
	png_read_image(png, rows);
	png_read_end(png, NULL);
	out->w = (int)w;
	out->h = (int)h;
	out->px = px;
	px = NULL;
out_destroy:
	png_destroy_read_struct(&png, info ? &info : NULL, NULL);
	free(rows);
	free(px);
	return rc;
}
