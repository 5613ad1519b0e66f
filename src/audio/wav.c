/* wav.c - a music file as the bytes of a 16-bit PCM WAV file, decoded on
 * demand (audio.h, "aud_wav"): a 44-byte RIFF header, then the stream's
 * samples interleaved, little-endian. The image's size is fixed when the
 * file is opened, from the frame count libsndfile declares; reads may
 * start anywhere (an HTTP byte range), and one that does not continue the
 * last moves the decoder there by decoding (load_block). */
#include <sndfile.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "moodsync/audio.h"

#define HEADER 44
#define BLOCK_FRAMES 4096

struct aud_wav {
	SNDFILE *sf;
	int fd; /* ours: closed with the rest */
	int channels;
	int64_t frames;	   /* declared: the image holds exactly these */
	int64_t next;	   /* frame the decoder reads next */
	int eof;	   /* the decoder has reached the real end */
	int64_t blk_first; /* frame blk[0] holds, -1: none */
	int blk_frames;	   /* frames in blk */
	unsigned char header[HEADER];
	int16_t *blk; /* BLOCK_FRAMES * channels samples */
};

static void put_le(unsigned char *p, uint32_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void make_header(struct aud_wav *w, int rate)
{
	unsigned char *h = w->header;
	uint32_t data = (uint32_t)(w->frames * w->channels * 2);
	uint32_t align = (uint32_t)w->channels * 2;

	memcpy(h, "RIFF", 4);
	put_le(h + 4, data + HEADER - 8, 4);
	memcpy(h + 8, "WAVEfmt ", 8);
	put_le(h + 16, 16, 4);			   /* fmt chunk size */
	put_le(h + 20, 1, 2);			   /* PCM */
	put_le(h + 22, (uint32_t)w->channels, 2);  /* channels */
	put_le(h + 24, (uint32_t)rate, 4);	   /* sample rate */
	put_le(h + 28, (uint32_t)rate * align, 4); /* bytes a second */
	put_le(h + 32, align, 2);		   /* bytes a frame */
	put_le(h + 34, 16, 2);			   /* bits a sample */
	memcpy(h + 36, "data", 4);
	put_le(h + 40, data, 4);
}

int aud_wav_open(int fd, const struct aud_limits *lim, struct aud_wav **out)
{
	struct aud_limits def;
	struct aud_wav *w;
	struct stat st;
	SF_INFO info;
	int rc = MS_OK;

	*out = NULL;
	if (!lim) {
		aud_limits_default(&def);
		lim = &def;
	}
	memset(&info, 0, sizeof(info));
	w = calloc(1, sizeof(*w));
	if (!w) {
		close(fd);
		return MS_ENOMEM;
	}
	w->fd = fd;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > lim->max_file_bytes) {
		aud_wav_close(w);
		return MS_ELIMIT;
	}
	w->sf = sf_open_fd(fd, SFM_READ, &info, SF_FALSE);
	if (!w->sf) {
		aud_wav_close(w);
		return MS_EFORMAT;
	}
	if (info.channels < 1 || info.channels > lim->max_channels ||
	    info.samplerate < lim->min_rate ||
	    info.samplerate > lim->max_rate || info.frames < 0 ||
	    (double)info.frames > lim->max_duration_s * info.samplerate ||
	    info.frames * info.channels * 2 > (int64_t)UINT32_MAX - HEADER)
		rc = MS_ELIMIT;
	if (!rc && !(w->blk = malloc(sizeof(int16_t) * BLOCK_FRAMES *
				     (size_t)info.channels)))
		rc = MS_ENOMEM;
	if (rc) {
		aud_wav_close(w);
		return rc;
	}
	/* float streams (Vorbis, Opus, MP3) clip at full scale, not wrap */
	sf_command(w->sf, SFC_SET_CLIPPING, NULL, SF_TRUE);
	w->channels = info.channels;
	w->frames = info.frames;
	w->blk_first = -1;
	make_header(w, info.samplerate);
	*out = w;
	return MS_OK;
}

uint64_t aud_wav_size(const struct aud_wav *w)
{
	return HEADER + (uint64_t)w->frames * (uint64_t)w->channels * 2;
}

/* Back to the first frame: the file opened again, not sf_seek(0), which
 * for some streams (MP3 through mpg123) does not restart the decoder in
 * the state it opened in. MS_EIO when it no longer opens the same. */
static int reopen(struct aud_wav *w)
{
	SF_INFO info;

	memset(&info, 0, sizeof(info));
	sf_close(w->sf);
	w->sf = NULL; /* until it opens again: every read fails */
	if (lseek(w->fd, 0, SEEK_SET) != 0)
		return MS_EIO;
	w->sf = sf_open_fd(w->fd, SFM_READ, &info, SF_FALSE);
	if (w->sf && info.channels != w->channels) {
		sf_close(w->sf);
		w->sf = NULL;
	}
	if (!w->sf)
		return MS_EIO;
	sf_command(w->sf, SFC_SET_CLIPPING, NULL, SF_TRUE);
	w->next = 0;
	w->eof = 0;
	return MS_OK;
}

/* Decodes into w->blk up to `want` frames at the decoder's position:
 * how many it got, 0 at the stream's real end (then it stays there). */
static sf_count_t decode(struct aud_wav *w, sf_count_t want)
{
	sf_count_t got = w->eof ? 0 : sf_readf_short(w->sf, w->blk, want);

	if (got <= 0) {
		w->eof = 1;
		return 0;
	}
	w->next += got;
	return got;
}

/* Decodes the block of frames starting at `first` into w->blk; past the
 * stream's real end it is silence. The decoder gets there by decoding:
 * forwards from where it is, or from the start (reopen) for a frame
 * behind it. (libsndfile's seek bisects on Ogg granule positions, which
 * some valid files state oddly: it landed 448 frames off in one of the
 * demo library's tracks.) MS_EIO when the file cannot be reopened. */
static int load_block(struct aud_wav *w, int64_t first)
{
	sf_count_t want = w->frames - first, got;

	if (want > BLOCK_FRAMES)
		want = BLOCK_FRAMES;
	if (!w->sf)
		return MS_EIO;
	w->blk_first = -1; /* blk is scratch until the block is in */
	if (first < w->next) {
		int rc = reopen(w);

		if (rc)
			return rc;
	}
	while (w->next < first && !w->eof) {
		sf_count_t skip = first - w->next;

		decode(w, skip < BLOCK_FRAMES ? skip : BLOCK_FRAMES);
	}
	got = w->next == first ? decode(w, want) : 0;
	if (w->eof)
		w->next = first + want; /* silence from here on */
	memset(w->blk + got * w->channels, 0,
	       sizeof(int16_t) * (size_t)((want - got) * w->channels));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	for (sf_count_t i = 0; i < got * w->channels; i++)
		w->blk[i] = (int16_t)__builtin_bswap16((uint16_t)w->blk[i]);
#endif
	w->blk_first = first;
	w->blk_frames = (int)want;
	return MS_OK;
}

long aud_wav_read(struct aud_wav *w, uint64_t pos, void *buf, size_t n)
{
	unsigned char *dst = buf;
	uint64_t size = aud_wav_size(w),
		 frame_bytes = (uint64_t)w->channels * 2;
	size_t done = 0;

	if (n > (size_t)1 << 30)
		n = (size_t)1 << 30;
	while (done < n && pos < size) {
		uint64_t take;

		if (pos < HEADER) {
			take = HEADER - pos;
			if (take > n - done)
				take = n - done;
			memcpy(dst + done, w->header + pos, (size_t)take);
		} else {
			uint64_t off = pos - HEADER;
			int64_t frame = (int64_t)(off / frame_bytes);
			uint64_t in;

			if (w->blk_first < 0 || frame < w->blk_first ||
			    frame >= w->blk_first + w->blk_frames) {
				int rc = load_block(w, frame);

				if (rc)
					return done ? (long)done : rc;
			}
			in = off - (uint64_t)w->blk_first * frame_bytes;
			take = (uint64_t)w->blk_frames * frame_bytes - in;
			if (take > n - done)
				take = n - done;
			memcpy(dst + done, (unsigned char *)w->blk + in,
			       (size_t)take);
		}
		done += (size_t)take;
		pos += take;
	}
	return (long)done;
}

void aud_wav_close(struct aud_wav *w)
{
	if (!w)
		return;
	if (w->sf)
		sf_close(w->sf);
	close(w->fd);
	free(w->blk);
	free(w);
}
