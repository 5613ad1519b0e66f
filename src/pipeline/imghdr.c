/* imghdr.c - the pipeline's image-size limits: the width and height of a
 * JPEG or PNG from its header (see moodsync/pipeline.h). PNG: the 8-byte
 * signature, then the IHDR chunk holds width and height as big-endian u32.
 * JPEG: SOI, then marker segments (0xFF, code, big-endian u16 length including
 * itself); the first SOFn (C0-CF except C4 DHT, C8 JPG, CC DAC) holds precision
 * u8, height u16, width u16. */
#include "moodsync/pipeline.h"

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static int png_dims(const uint8_t *b, size_t len, uint32_t *w, uint32_t *h)
{
	static const uint8_t sig[8] = {0x89, 'P',  'N',	 'G',
				       '\r', '\n', 0x1a, '\n'};

	if (len < 24)
		return 0;
	for (int i = 0; i < 8; i++)
		if (b[i] != sig[i])
			return 0;
	if (b[12] != 'I' || b[13] != 'H' || b[14] != 'D' || b[15] != 'R')
		return 0;
	*w = be32(b + 16);
	*h = be32(b + 20);
	return 1;
}

static int jpeg_dims(const uint8_t *b, size_t len, uint32_t *w, uint32_t *h)
{
	size_t i = 2;

	if (len < 4 || b[0] != 0xff || b[1] != 0xd8)
		return 0;
	while (i + 4 <= len) {
		uint8_t m;
		size_t seg;

		if (b[i] != 0xff)
			return 0;		/* not at a marker: corrupt */
		while (i < len && b[i] == 0xff) /* fill bytes */
			i++;
		if (i >= len)
			return 0;
		m = b[i++];
		if (m == 0x01 || (m >= 0xd0 && m <= 0xd8))
			continue; /* standalone markers */
		if (m == 0xd9 || m == 0xda)
			return 0; /* end or scan data before any SOF */
		if (i + 2 > len)
			return 0;
		seg = (size_t)b[i] << 8 | b[i + 1];
		if (seg < 2)
			return 0;
		if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 &&
		    m != 0xcc) {
			if (seg < 7 || i + 7 > len)
				return 0;
			*h = (uint32_t)b[i + 3] << 8 | b[i + 4];
			*w = (uint32_t)b[i + 5] << 8 | b[i + 6];
			return 1;
		}
		if (seg > len - i)
			return 0;
		i += seg;
	}
	return 0;
}

int pipe_image_dims(const uint8_t *buf, size_t len, uint32_t *w, uint32_t *h)
{
	uint32_t ww, hh;

	if (png_dims(buf, len, &ww, &hh) || jpeg_dims(buf, len, &ww, &hh)) {
		*w = ww;
		*h = hh;
		return 1;
	}
	return 0;
}

int pipe_frame_check_size(const uint8_t *buf, size_t len, char *err,
			  size_t errlen)
{
	uint32_t w, h;

	if (!pipe_image_dims(buf, len, &w, &h))
		return MS_OK;
	if (w <= PIPE_FRAME_MAX_SIDE && h <= PIPE_FRAME_MAX_SIDE &&
	    (uint64_t)w * h <= PIPE_FRAME_MAX_PIXELS)
		return MS_OK;
	return ms_errf(err, errlen, MS_ELIMIT,
		       "image too large: %ux%u (at most %u px a side, %u "
		       "pixels)",
		       (unsigned)w, (unsigned)h, (unsigned)PIPE_FRAME_MAX_SIDE,
		       (unsigned)PIPE_FRAME_MAX_PIXELS);
}
