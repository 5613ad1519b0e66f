/* test_vision_image.c - unit tests for the image half of src/vision:
 * JPEG/PNG decoding of valid, truncated, corrupt and oversized input, and
 * resampling (resize, crop + resize). Test images are encoded here with
 * libjpeg/libpng, so no binary fixtures are needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jpeglib.h>
#include <png.h>

#include "moodsync/vision.h"

/* ---- helpers ---------------------------------------------------------- */

static uint32_t rng_state = 12345;

static uint32_t rng(void)
{
	rng_state = rng_state * 1664525u + 1013904223u;
	return rng_state >> 8;
}

/* Encodes a w x h gray image (pattern from seed) as JPEG in memory. */
static uint8_t *make_jpeg(int w, int h, size_t *len)
{
	struct jpeg_compress_struct c;
	struct jpeg_error_mgr e;
	unsigned char *out = NULL;
	unsigned long n = 0;
	uint8_t *row = malloc((size_t)w);

	c.err = jpeg_std_error(&e);
	jpeg_create_compress(&c);
	jpeg_mem_dest(&c, &out, &n);
	c.image_width = (JDIMENSION)w;
	c.image_height = (JDIMENSION)h;
	c.input_components = 1;
	c.in_color_space = JCS_GRAYSCALE;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, 90, TRUE);
	jpeg_start_compress(&c, TRUE);
	while (c.next_scanline < c.image_height) {
		for (int x = 0; x < w; x++)
			row[x] = (uint8_t)((x * 7 + (int)c.next_scanline * 3) &
					   0xff);
		jpeg_write_scanlines(&c, &row, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	free(row);
	*len = n;
	return out;
}

struct membuf {
	uint8_t *p;
	size_t len, cap;
};

static void png_write_mem(png_structp png, png_bytep data, size_t n)
{
	struct membuf *m = png_get_io_ptr(png);

	if (m->len + n > m->cap) {
		m->cap = (m->len + n) * 2;
		m->p = realloc(m->p, m->cap);
	}
	memcpy(m->p + m->len, data, n);
	m->len += n;
}

static void png_flush_mem(png_structp png)
{
	(void)png;
}

/* Encodes px (w x h, `channels` 1 or 3) as PNG in memory. */
static uint8_t *make_png(const uint8_t *px, int w, int h, int channels,
			 size_t *len)
{
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL,
						  NULL, NULL);
	png_infop info = png_create_info_struct(png);
	struct membuf m = {NULL, 0, 0};

	png_set_write_fn(png, &m, png_write_mem, png_flush_mem);
	png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8,
		     channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY,
		     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
		     PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (int y = 0; y < h; y++)
		png_write_row(png, (png_bytep)(px + (size_t)y * w * channels));
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	*len = m.len;
	return m.p;
}

/* ---- decoders ----------------------------------------------------------- */

static void test_decode_jpeg(void **state)
{
	size_t len;
	uint8_t *jpg = make_jpeg(40, 30, &len);
	struct vis_image img;
	char err[MS_ERRLEN];
	int sof = -1;

	(void)state;
	assert_int_equal(vis_image_decode(jpg, len, &img, err, sizeof(err)),
			 MS_OK);
	assert_int_equal(img.w, 40);
	assert_int_equal(img.h, 30);
	/* lossy, but close to the pattern */
	assert_true(abs(img.px[5 * 40 + 3] - ((3 * 7 + 5 * 3) & 0xff)) < 12);
	vis_image_release(&img);

	/* truncated: half of the entropy-coded data */
	err[0] = '\0';
	assert_int_equal(vis_image_decode(jpg, len / 2, &img, err, sizeof(err)),
			 MS_EFORMAT);
	assert_non_null(strstr(err, "truncated"));
	/* truncated inside the header */
	assert_int_equal(vis_image_decode(jpg, 40, &img, err, sizeof(err)),
			 MS_EFORMAT);
	assert_int_equal(vis_image_decode(jpg, 2, &img, err, sizeof(err)),
			 MS_EFORMAT);

	/* huge dimensions in the frame header: refused before allocating */
	for (size_t i = 0; i + 8 < len; i++)
		if (jpg[i] == 0xff && jpg[i + 1] == 0xc0) {
			sof = (int)i;
			break;
		}
	assert_true(sof > 0);
	{
		uint8_t *big = malloc(len);
		memcpy(big, jpg, len);
		big[sof + 5] = 0x4e; /* height 20000 */
		big[sof + 6] = 0x20;
		big[sof + 7] = 0x4e; /* width 20000 */
		big[sof + 8] = 0x20;
		assert_int_equal(
			vis_image_decode(big, len, &img, err, sizeof(err)),
			MS_ELIMIT);
		assert_non_null(strstr(err, "too large"));
		/* zero width: corrupt */
		big[sof + 7] = 0;
		big[sof + 8] = 0;
		assert_int_equal(
			vis_image_decode(big, len, &img, err, sizeof(err)),
			MS_EFORMAT);
		/* garbage over the tables: corrupt, not a crash */
		memcpy(big, jpg, len);
		for (size_t i = 20; i < (size_t)sof; i++)
			big[i] = (uint8_t)rng();
		assert_true(vis_image_decode(big, len, &img, err,
					     sizeof(err)) != MS_OK ||
			    (vis_image_release(&img), 1));
		free(big);
	}
	free(jpg);
}

/* A 16x16 progressive JPEG whose scan script has 704 scans: every one of
 * the 64 coefficients in its own band, each refined bit by bit. */
static uint8_t *make_many_scans_jpeg(size_t *len)
{
	static jpeg_scan_info scans[64 * 11];
	struct jpeg_compress_struct c;
	struct jpeg_error_mgr e;
	unsigned char *out = NULL;
	unsigned long n = 0;
	uint8_t row[16];
	int k = 0;

	for (int band = 0; band < 64; band++)
		for (int al = 10; al >= 0; al--, k++) {
			scans[k].comps_in_scan = 1;
			scans[k].component_index[0] = 0;
			scans[k].Ss = band;
			scans[k].Se = band;
			scans[k].Ah = al == 10 ? 0 : al + 1;
			scans[k].Al = al;
		}
	c.err = jpeg_std_error(&e);
	jpeg_create_compress(&c);
	jpeg_mem_dest(&c, &out, &n);
	c.image_width = 16;
	c.image_height = 16;
	c.input_components = 1;
	c.in_color_space = JCS_GRAYSCALE;
	jpeg_set_defaults(&c);
	c.scan_info = scans;
	c.num_scans = k;
	jpeg_start_compress(&c, TRUE);
	while (c.next_scanline < c.image_height) {
		JSAMPROW r = row;
		for (int x = 0; x < 16; x++)
			row[x] = (uint8_t)(x * 16 + (int)c.next_scanline);
		jpeg_write_scanlines(&c, &r, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	*len = n;
	return out;
}

static void test_decode_jpeg_scan_limit(void **state)
{
	size_t len;
	uint8_t *jpg = make_many_scans_jpeg(&len);
	struct vis_image img;
	char err[MS_ERRLEN] = "";

	(void)state;
	assert_int_equal(vis_image_decode(jpg, len, &img, err, sizeof(err)),
			 MS_ELIMIT);
	assert_non_null(strstr(err, "scans"));
	free(jpg);
}

static void test_decode_png(void **state)
{
	uint8_t gray[12 * 9], rgb[5 * 4 * 3];
	size_t len, len3;
	uint8_t *png, *png3;
	struct vis_image img;
	char err[MS_ERRLEN];

	(void)state;
	for (int i = 0; i < 12 * 9; i++)
		gray[i] = (uint8_t)(i * 2);
	for (int i = 0; i < 5 * 4; i++) {
		rgb[3 * i] = 200;
		rgb[3 * i + 1] = 100;
		rgb[3 * i + 2] = 0;
	}
	png = make_png(gray, 12, 9, 1, &len);
	png3 = make_png(rgb, 5, 4, 3, &len3);
	assert_int_equal(vis_image_decode(png, len, &img, err, sizeof(err)),
			 MS_OK);
	assert_int_equal(img.w, 12);
	assert_int_equal(img.h, 9);
	assert_memory_equal(img.px, gray, sizeof(gray));
	vis_image_release(&img);
	/* color to luma, BT.601: 0.299*200 + 0.587*100 = 118.5 */
	assert_int_equal(vis_image_decode(png3, len3, &img, err, sizeof(err)),
			 MS_OK);
	assert_true(abs(img.px[0] - 118) <= 1);
	vis_image_release(&img);

	assert_int_equal(
		vis_image_decode(png, len - 20, &img, err, sizeof(err)),
		MS_EFORMAT);
	assert_non_null(strstr(err, "truncated"));
	assert_int_equal(vis_image_decode(png, 20, &img, err, sizeof(err)),
			 MS_EFORMAT);
	{
		uint8_t *bad = malloc(len);
		memcpy(bad, png, len);
		bad[16] = 0; /* width 0x00004e20 = 20000 */
		bad[17] = 0;
		bad[18] = 0x4e;
		bad[19] = 0x20;
		bad[22] = 0x4e;
		bad[23] = 0x20;
		assert_int_equal(
			vis_image_decode(bad, len, &img, err, sizeof(err)),
			MS_ELIMIT);
		memcpy(bad, png, len);
		bad[len - 20] ^= 0x55; /* inside IDAT: CRC or zlib error */
		assert_int_equal(
			vis_image_decode(bad, len, &img, err, sizeof(err)),
			MS_EFORMAT);
		free(bad);
	}
	free(png);
	free(png3);
}

static void test_decode_other(void **state)
{
	struct vis_image img;
	char err[MS_ERRLEN];
	const uint8_t gif[] = "GIF89a\x01\x00\x01\x00";

	(void)state;
	assert_int_equal(
		vis_image_decode(gif, sizeof(gif), &img, err, sizeof(err)),
		MS_EUNSUPPORTED);
	assert_int_equal(vis_image_decode(gif, 0, &img, err, sizeof(err)),
			 MS_EFORMAT);
	assert_int_equal(
		vis_image_load("/nonexistent.jpg", &img, err, sizeof(err)),
		MS_ENOTFOUND);
	assert_int_equal(vis_image_init(&img, 20000, 10), MS_ELIMIT);
	assert_int_equal(vis_image_init(&img, 10000, 10000), MS_ELIMIT);
}

static void test_resize_crop(void **state)
{
	struct vis_image a, b;
	uint8_t out[16];

	(void)state;
	assert_int_equal(vis_image_init(&a, 100, 50), MS_OK);
	for (int y = 0; y < 50; y++)
		for (int x = 0; x < 100; x++)
			a.px[y * 100 + x] = x < 50 ? 20 : 220;
	assert_int_equal(vis_image_resize(&a, 10, 5, &b), MS_OK);
	assert_int_equal(b.w, 10);
	assert_int_equal(b.px[0], 20);
	assert_int_equal(b.px[9], 220);
	assert_int_equal(b.px[4 * 10 + 2], 20);
	vis_image_release(&b);
	assert_int_equal(vis_image_resize(&a, 300, 200, &b), MS_OK);
	assert_int_equal(b.px[199 * 300 + 299], 220);
	vis_image_release(&b);
	/* crop of the bright half, and a box past the edge repeats it */
	vis_crop_resize(&a, (struct ms_rect){60, 10, 20, 20}, 0, 4, 4, out);
	for (int i = 0; i < 16; i++)
		assert_int_equal(out[i], 220);
	vis_crop_resize(&a, (struct ms_rect){-40, -40, 20, 20}, 0.5f, 4, 4,
			out);
	for (int i = 0; i < 16; i++)
		assert_int_equal(out[i], 20);
	vis_image_release(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_jpeg),
		cmocka_unit_test(test_decode_jpeg_scan_limit),
		cmocka_unit_test(test_decode_png),
		cmocka_unit_test(test_decode_other),
		cmocka_unit_test(test_resize_crop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
