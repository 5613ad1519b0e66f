/* decode_jpeg.c - JPEG (libjpeg-turbo) from memory to 8-bit gray. libjpeg
 * reports fatal errors through error_exit, which by default calls exit():
 * ours longjmps back with the library's message instead. A premature end
 * of data, which libjpeg only warns about, is a "truncated" error here. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

#include "vision/vision_internal.h"

/* A progressive JPEG may hold any number of scans, each one a pass over
 * the whole image: past this many it is refused (as TurboJPEG's scan
 * limit does), so a small file cannot cost minutes. */
#define MAX_SCANS 500

struct jpeg_err {
	struct jpeg_error_mgr pub; /* must come first */
	struct jpeg_progress_mgr progress;
	jmp_buf jump;
	int truncated; /* saw JWRN_JPEG_EOF */
	int too_many_scans;
	char msg[JMSG_LENGTH_MAX];
};

static void on_error_exit(j_common_ptr cinfo)
{
	struct jpeg_err *e = (struct jpeg_err *)cinfo->err;

	e->pub.format_message(cinfo, e->msg);
	longjmp(e->jump, 1);
}

static void on_message(j_common_ptr cinfo, int level)
{
	struct jpeg_err *e = (struct jpeg_err *)cinfo->err;

	/* level -1 is a warning about corrupt data; only running out of
	 * data makes the image unusable (the rest is filled with gray) */
	if (level < 0 && e->pub.msg_code == JWRN_JPEG_EOF)
		e->truncated = 1;
}

static void on_progress(j_common_ptr cinfo)
{
	struct jpeg_err *e = (struct jpeg_err *)cinfo->err;

	if (cinfo->is_decompressor &&
	    ((j_decompress_ptr)cinfo)->input_scan_number > MAX_SCANS) {
		e->too_many_scans = 1;
		snprintf(e->msg, sizeof(e->msg), "more than %d scans",
			 MAX_SCANS);
		longjmp(e->jump, 1);
	}
}

int vis_decode_jpeg(const uint8_t *buf, size_t len, struct vis_image *out,
		    char *err, size_t errlen)
{
	struct jpeg_decompress_struct cinfo;
	struct jpeg_err jerr;
	/* volatile: read after longjmp */
	uint8_t *volatile px = NULL;
	volatile int rc = MS_OK;
	int w, h;

	memset(&jerr, 0, sizeof(jerr));
	cinfo.err = jpeg_std_error(&jerr.pub);
	jerr.pub.error_exit = on_error_exit;
	jerr.pub.emit_message = on_message;
	if (setjmp(jerr.jump)) {
		if (jerr.too_many_scans)
			rc = ms_errf(err, errlen, MS_ELIMIT, "JPEG: %s",
				     jerr.msg);
		else
			rc = ms_errf(err, errlen, MS_EFORMAT, "%s JPEG: %s",
				     jerr.truncated ? "truncated" : "corrupt",
				     jerr.msg);
		goto out_destroy;
	}
	jpeg_create_decompress(&cinfo);
	jerr.progress.progress_monitor = on_progress;
	cinfo.progress = &jerr.progress;
	jpeg_mem_src(&cinfo, buf, (unsigned long)len);
	if (jpeg_read_header(&cinfo, TRUE) != JPEG_HEADER_OK) {
		rc = ms_errf(err, errlen, MS_EFORMAT, "JPEG without an image");
		goto out_destroy;
	}
	if (jerr.truncated) {
		rc = ms_errf(err, errlen, MS_EFORMAT, "truncated JPEG header");
		goto out_destroy;
	}
	/* the caps before any allocation the size would drive */
	rc = vis_check_dims((long)cinfo.image_width, (long)cinfo.image_height,
			    "JPEG", err, errlen);
	if (rc)
		goto out_destroy;
	if (cinfo.jpeg_color_space == JCS_CMYK ||
	    cinfo.jpeg_color_space == JCS_YCCK) {
		rc = ms_errf(err, errlen, MS_EUNSUPPORTED,
			     "CMYK JPEG is not supported");
		goto out_destroy;
	}
	cinfo.out_color_space = JCS_GRAYSCALE;
	jpeg_start_decompress(&cinfo);
	w = (int)cinfo.output_width;
	h = (int)cinfo.output_height;
	if (cinfo.output_components != 1 || w != (int)cinfo.image_width ||
	    h != (int)cinfo.image_height) {
		rc = ms_errf(err, errlen, MS_EUNSUPPORTED,
			     "JPEG did not decode to one gray channel");
		goto out_destroy;
	}
	px = malloc((size_t)w * (size_t)h);
	if (!px) {
		rc = ms_errf(err, errlen, MS_ENOMEM, "out of memory (%dx%d)", w,
			     h);
		goto out_destroy;
	}
	while (cinfo.output_scanline < cinfo.output_height) {
		JSAMPROW row = px + (size_t)cinfo.output_scanline * (size_t)w;

		jpeg_read_scanlines(&cinfo, &row, 1);
		if (jerr.truncated)
			break;
	}
	if (jerr.truncated) {
		rc = ms_errf(err, errlen, MS_EFORMAT,
			     "truncated JPEG (data ends at row %u of %d)",
			     cinfo.output_scanline, h);
		goto out_destroy;
	}
	jpeg_finish_decompress(&cinfo);
	out->w = w;
	out->h = h;
	out->px = px;
	px = NULL;
out_destroy:
	jpeg_destroy_decompress(&cinfo);
	free(px);
	return rc;
}
