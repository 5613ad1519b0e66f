/* imghdr.h - reads the pixel size from a JPEG or PNG header without
 * decoding, so POST /api/frame can refuse an oversized image (413) before
 * the decoder allocates it (a 75 KB PNG can claim 8000x8000). */
#ifndef MOODSYNC_SERVER_IMGHDR_H
#define MOODSYNC_SERVER_IMGHDR_H

#include <stddef.h>
#include <stdint.h>

/* Largest frame the API decodes: 4096 px a side, 4.2 megapixels (2560x1600
 * passes, 4K UHD does not; the page sends 320x240). */
#define SRV_FRAME_MAX_SIDE 4096
#define SRV_FRAME_MAX_PIXELS (4096u * 1024u)

/* Writes the width and height declared by the PNG IHDR or the first JPEG
 * SOFn marker of buf[0..len). Returns 1 when found, 0 when the header is
 * not recognised or truncated (let the decoder report it). Reads only
 * inside the buffer; thread-safe. */
int srv_image_dims(const uint8_t *buf, size_t len, uint32_t *w, uint32_t *h);

#endif
