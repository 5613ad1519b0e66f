/* analyze.c - the one place the library's scan meets audio analysis:
 * music_analyze_file, the music_analyze_fn the CLI and the server pass to
 * a scan. This build reads the header of WAV files only (duration; the
 * point stays at the centre of the plane) until the audio component's
 * analyser is wired in here. */
#include <stdio.h>
#include <string.h>

#include "moodsync/library.h"

const char music_analyser_version[] = "wav-header-0";

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* Duration of a canonical RIFF/WAVE file from its fmt and data chunks. */
static int wav_duration(FILE *f, double *out)
{
	unsigned char h[12], ch[8], fmt[16];
	uint32_t byte_rate = 0;

	if (fread(h, 1, 12, f) != 12 || memcmp(h, "RIFF", 4) ||
	    memcmp(h + 8, "WAVE", 4))
		return MS_EFORMAT;
	for (int i = 0; i < 64 && fread(ch, 1, 8, f) == 8; i++) {
		uint32_t n = le32(ch + 4);

		if (memcmp(ch, "fmt ", 4) == 0 && n >= 16) {
			if (fread(fmt, 1, 16, f) != 16)
				return MS_EFORMAT;
			byte_rate = le32(fmt + 8);
			n -= 16;
		} else if (memcmp(ch, "data", 4) == 0) {
			if (!byte_rate || !n)
				return MS_EFORMAT;
			*out = (double)n / byte_rate;
			return MS_OK;
		}
		if (fseek(f, (long)n + (n & 1), SEEK_CUR) != 0)
			return MS_EFORMAT;
	}
	return MS_EFORMAT;
}

int music_analyze_file(void *ctx, const char *path,
		       struct music_track_info *out, char *err, size_t errlen)
{
	FILE *f;
	int rc;

	(void)ctx;
	if (!music_mime_of(path) || strcmp(music_mime_of(path), "audio/wav"))
		return ms_errf(err, errlen, MS_EUNSUPPORTED,
			       "no analyser for this format in this build");
	f = fopen(path, "rb");
	if (!f)
		return ms_errf(err, errlen, MS_EIO, "cannot open");
	memset(out, 0, sizeof(*out));
	rc = wav_duration(f, &out->duration_s);
	fclose(f);
	if (rc)
		return ms_errf(err, errlen, rc, "not a WAV file");
	return MS_OK;
}
